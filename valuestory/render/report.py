"""`valuestory report`: the value story map of the latest run, as one self-contained HTML file
or as Markdown.

`build` reads the run's artefacts (through the run reader) and shapes them for the templates; every quote shown is
registered with `Citations`, which checks it against its record and gives it an anchor in the
appendix, where the record is shown with the quoted span highlighted. A quote that is not
verbatim in its record is not shown. Charts are inline SVG from `charts`.
"""

from __future__ import annotations

import base64
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html import escape
from itertools import combinations
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from valuestory.pipeline.grounding import locate
from valuestory.pipeline.journey import PHASES
from valuestory.pipeline.roles import verdict
from valuestory.project import Project
from valuestory.records import Record
from valuestory.stores.runs import RunReader, RunStore

from . import charts
from .exports import persona_scorecards
from .numbers import signed

PHASE_ORDER = list(PHASES)
MAX_SCORE_ROWS = 25  # shown; the rest collapse
NETWORK_NODES = 16
MIN_STEP_CUSTOMERS = 2  # a step drawn as an arrow is taken by this many customers
CONTEXT_CHARS = 600  # of a long record, shown around its cited spans
EMERGING_SHOWN = 12  # themes outside the codebook shown; the export has them all


@dataclass
class Quote:
    text: str
    ref: str  # anchor of its appendix entry
    number: int
    record_id: str
    start: int = 0
    end: int = 0


@dataclass
class Entry:
    record_id: str
    kind: str
    source: str
    locator: str
    text: str
    spans: list[tuple[int, int, str, int]] = field(default_factory=list)  # start, end, anchor, number


class Citations:
    """Quotes shown in the report, each checked against its record and numbered."""

    def __init__(self, records: dict[str, dict]) -> None:
        self.records = records
        self.entries: dict[str, Entry] = {}
        self.seen: dict[tuple[str, int, int], Quote] = {}
        self.dropped = 0

    def cite(self, record_id: str, text: str, start: int | None = None, end: int | None = None) -> Quote | None:
        """The quote, numbered, if it is verbatim in the record; else None, counted as dropped."""
        quote = self._cite(record_id, text, start, end)
        if quote is None:  # never shown: not the customer's words
            self.dropped += 1
        return quote

    def find(self, text: str, record_ids: list[str]) -> Quote | None:
        """The quote in the first of these records that holds it; dropped once if none does."""
        quote = next((q for rid in record_ids if (q := self._cite(rid, text))), None)
        if quote is None:
            self.dropped += 1
        return quote

    def _cite(self, record_id: str, text: str, start: int | None = None, end: int | None = None) -> Quote | None:
        record = self.records.get(record_id)
        if record is None:
            return None
        body = record["text"]
        if start is None or end is None or body[start:end] != text:
            span = locate(text, body)
            if span is None:
                return None
            start, end = span
        key = (record_id, start, end)
        if key not in self.seen:
            number = len(self.seen) + 1
            # the file's name, not the researcher's folders: the report gets mailed around
            entry = self.entries.setdefault(record_id, Entry(record_id, record["kind"], Path(record["source"]).name,
                                                             record["locator"] or "", body))
            entry.spans.append((start, end, f"q{number}", number))
            self.seen[key] = Quote(body[start:end], f"q{number}", number, record_id, start, end)
        return self.seen[key]

    def appendix(self) -> list[dict]:
        """Per cited record: its text in pieces, plain or highlighted, with an anchor at the
        start of every quote; long records are cut to the neighbourhood of their quotes."""
        out = []
        for entry in sorted(self.entries.values(), key=lambda e: min(s[3] for s in e.spans)):
            text = entry.text
            windows = _merge([(max(0, s - CONTEXT_CHARS // 2), min(len(text), e + CONTEXT_CHARS // 2))
                              for s, e, _, _ in entry.spans]) if len(text) > 2 * CONTEXT_CHARS else [(0, len(text))]
            marks = _merge([(s, e) for s, e, _, _ in entry.spans])
            pieces = []
            for w_start, w_end in windows:
                if w_start > 0:
                    pieces.append({"gap": True})
                cuts = sorted({w_start, w_end} | {p for m in marks for p in m if w_start < p < w_end}
                              | {s for s, _, _, _ in entry.spans if w_start < s < w_end})
                for a, b in zip(cuts, cuts[1:], strict=False):
                    anchors = [(ref, n) for s, _, ref, n in entry.spans if s == a]
                    pieces.append({"text": text[a:b], "mark": any(m0 <= a and b <= m1 for m0, m1 in marks),
                                   "anchors": anchors})
            if windows[-1][1] < len(text):
                pieces.append({"gap": True})
            out.append({"record_id": entry.record_id, "kind": entry.kind, "source": entry.source,
                        "locator": entry.locator, "pieces": pieces,
                        "numbers": sorted(n for _, _, _, n in entry.spans)})
        return out


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


SURE = 0.8  # a mention this confident or more is counted as one to rely on in "how far to trust this"


def _trust(coding) -> dict:
    """How far to trust the coding: the share of mentions at SURE or more, and which curve
    their confidences are on (the researcher's own verdicts, else the built-in one)."""
    sure = sum(m.confidence >= SURE for m in coding.mentions)
    return {"sure": sure, "mentions": len(coding.mentions), "share": sure / len(coding.mentions) if coding.mentions else 0.0,
            "threshold": SURE, "verdicts": int(coding.calibration[2]) if coding.calibration else 0}


def build(project: Project, reader: RunReader | None = None, comparisons: bool = True) -> dict:
    """Everything the templates show, from a finished run (by default the latest); without
    `comparisons`, neither what changed since the run before nor the personas side by side
    (each rescores the run: 80 s of a 96 s build at 200,000 responses)."""
    ledger = project.ledger
    reader = reader or RunStore(ledger).latest()
    run = reader.info.model_dump()
    stored = list(ledger.records())
    persona_of = reader.personas.persona_of
    if reader.slice:  # the slice's records only: its personas hold exactly them
        stored = [r for r in stored if r.record_id in persona_of]
    records = {r.record_id: {"record_id": r.record_id, "kind": r.kind, "source": r.source, "locator": r.locator,
                             "segment": r.segment, "date": r.date, "score": r.score, "text": r.text}
               for r in stored}
    cite = Citations(records)
    coding, journey = reader.coding, reader.journey
    mentions = [{**m.model_dump(include={"record_id", "touchpoint", "quote", "start", "end", "sentiment", "polarity",
                                         "did_job", "confidence"}), "persona": p.persona, "phase": p.phase}
                for m, p in zip(coding.mentions, journey.placements, strict=True)]
    decisions = sorted((d.model_dump() for d in journey.decisions), key=lambda d: (d["record_id"], d["position"]))
    scores = [s.model_dump() for s in reader.scores.scores if s.scope == "overall"]
    outputs = {"roles": [r.model_dump() for r in reader.roles.roles],
               "stories": [h.model_dump() for h in reader.stories.hypotheses],
               "briefs": [b.model_dump() for b in reader.stories.briefs],
               "opportunities": [o.model_dump() for o in reader.opportunities.items],
               "valuemap": [v.model_dump() for v in reader.value_maps.maps]}
    summary = reader.info.summary.model_dump() if reader.info.summary else {}
    by_touchpoint: dict[str, list[dict]] = defaultdict(list)
    for m in mentions:
        by_touchpoint[m["touchpoint"]].append(m)

    def worst_quote(touchpoint: str) -> Quote | None:
        # the customer's own voice first (a survey answer or a turn beats a rep's CRM note), and
        # mentions found by the touchpoint's own words before those found by meaning alone
        for m in sorted(by_touchpoint.get(touchpoint, []),
                        key=lambda m: (records[m["record_id"]]["kind"] == "sales", m["confidence"] < 0.55, m["sentiment"])):
            if (q := cite.cite(m["record_id"], m["quote"], m["start"], m["end"])) is not None:
                return q
        return None

    ranked = sorted((s for s in scores if s.get("rank")), key=lambda s: s["rank"])
    score_of = {s["touchpoint"]: s for s in scores}
    fix_first = [{"touchpoint": t, "score": score_of.get(t, {}), "quote": worst_quote(t)} for t in summary.get("fix_first", [])]
    easy = [{"touchpoint": t, "score": score_of.get(t, {}), "quote": worst_quote(t)} for t in summary.get("easy_fixes", [])]

    personas = sorted({m["persona"] or "" for m in mentions} | {d["persona"] or "" for d in decisions})
    maps = [_persona_map(p, mentions, decisions, outputs["roles"], cite) for p in personas]
    dates = sorted(r["date"] for r in records.values() if r["date"])
    context = {
        "title": f"Value story map: {project.config.project.name}",
        "generated": time.strftime("%Y-%m-%d %H:%M"),
        "run": {**run, "prompts": {k: ", ".join(v) if isinstance(v, list) else v for k, v in run["prompts"].items()}},
        "summary": summary,
        "card": {"nps_respondents": reader.scores.nps_respondents, "overall_rating": reader.scores.overall_rating,
                 "rating_respondents": reader.scores.rating_respondents, "rating_scale": reader.scores.rating_scale},
        # offline, every quote is a span of its record by construction: the figure says nothing there
        "groundedness": None if reader.info.offline else summary.get("groundedness"),
        "sources": _sources(stored) if reader.slice else
        [{"kind": k, "files": f, "records": n} for k, f, n, _, _ in ledger.counts_by_kind()],
        "slice": reader.slice.label if reader.slice else "",
        "records": len(records),
        "dates": (dates[0], dates[-1]) if dates else None,
        # every record is in one persona (Unassigned included): the counts add up to the records'
        "personas": [{"name": name, "records": n} for name, n in
                     Counter(persona_of.get(r.record_id) or "Unassigned" for r in stored).most_common()],
        "fix_first": fix_first, "easy_fixes": easy, "promises": _promises(reader, cite),
        "trust": _trust(coding),
        "changed": None if reader.slice or not comparisons else _changed(project, reader, stored, cite),
        "maps": maps,
        "scorecard": [_score_row(s) for s in ranked] + [_score_row(s) for s in scores if not s.get("rank")],
        "max_score_rows": MAX_SCORE_ROWS,
        "persona_cards": _persona_cards(reader, stored, ranked) if comparisons else {"personas": []},
        "matrix": Markup(charts.impact_matrix([
            {"touchpoint": s["touchpoint"], "rank": s["rank"], "emotional": s["emotional_impact"]["value"] or 0.0,
             "business": s.get("business_impact") or 0.0, "mentions": s["mentions"],
             "functional": s["functional_performance"]["value"]} for s in ranked[:20]])),
        "nps_chart": Markup(charts.nps_drivers(_drivers(scores))),
        "network": _network(mentions, decisions, [st.model_dump() for st in journey.steps]),
        "stories": _stories(outputs["stories"], outputs["briefs"], cite),
        "valuemaps": _value_maps(outputs["valuemap"], cite),
        "opportunities": _opportunities(outputs["opportunities"], cite),
        "codebook": bool(reader.info.codebook),
        "emerging": [{"theme": t.theme, "description": t.description, "records": len(t.records),
                      "cited": [q for span in t.quotes if (q := _span(span.model_dump(), cite))]}
                     for t in coding.emerging[:EMERGING_SHOWN]],
        "emerging_more": max(0, len(coding.emerging) - EMERGING_SHOWN),
        "engine_is_offline": reader.info.offline,
    }
    context["appendix"] = cite.appendix()
    context["dropped_quotes"] = cite.dropped
    return context


DRIVERS = 7  # NPS drivers drawn on each side: the most costly and the most earning


def _drivers(scores: list[dict]) -> list[dict]:
    """The touchpoints that cost the most NPS points and those that earn the most, both sides."""
    items = sorted(({"touchpoint": s["touchpoint"], "value": s["nps_impact"]["value"], "low": s["nps_impact"]["low"],
                     "high": s["nps_impact"]["high"]} for s in scores if s["nps_impact"]["value"] is not None),
                   key=lambda i: i["value"])
    costs = [i for i in items if i["value"] < 0][:DRIVERS]
    earns = [i for i in items if i["value"] > 0][-DRIVERS:]
    return costs + earns


PERSONA_ROWS = 12  # touchpoints compared across personas: the run's top ranks, then any that differ


def _persona_cards(reader: RunReader, stored: list[Record], ranked: list[dict]) -> dict:
    """The personas' scorecards side by side: per touchpoint, each persona's emotional impact
    with its interval and rank, marked where it differs from the other personas'."""
    cards = persona_scorecards(reader, stored)
    cell = {(p.persona, p.score.touchpoint): p for p in cards.scores}
    order = [s["touchpoint"] for s in ranked[:PERSONA_ROWS]]
    order += sorted({p.score.touchpoint for p in cards.scores if p.differs} - set(order))
    rows = [{"touchpoint": t, "cells": [cell.get((name, t)) for name in cards.personas]} for t in order]
    return {"personas": cards.personas, "rows": rows, "fix_first": cards.fix_first,
            "differ": sum(p.differs for p in cards.scores)}


def _sources(records: list[Record]) -> list[dict]:
    kinds = Counter(r.kind for r in records)
    files = {k: len({r.source for r in records if r.kind == k}) for k in kinds}
    return [{"kind": k, "files": files[k], "records": n} for k, n in sorted(kinds.items())]


def _score_row(s: dict) -> dict:
    return {"touchpoint": s["touchpoint"], "rank": s.get("rank"), "mentions": s["mentions"],
            "frequency": s.get("frequency"), "emotional": s["emotional_impact"], "functional": s["functional_performance"],
            "nps": s["nps_impact"], "rating": s["rating_impact"], "business": s.get("business_impact"),
            "priority": s.get("priority"),
            "effort": s.get("effort")}


def _persona_map(persona: str, mentions: list[dict], decisions: list[dict], roles: list[dict], cite: Citations) -> dict:
    mine = [m for m in mentions if (m["persona"] or "") == persona]
    phases = []
    for phase in PHASE_ORDER:
        here = [m for m in mine if m["phase"] == phase]
        counts = Counter(m["touchpoint"] for m in here)
        touchpoints = [{"name": t, "mentions": n,
                        "sentiment": sum(m["sentiment"] for m in here if m["touchpoint"] == t) / n}
                       for t, n in counts.most_common(6)]
        made = [d for d in decisions if (d["persona"] or "") == persona and d["phase"] == phase]
        kinds = []
        for kind, n in Counter(d["decision"] for d in made).most_common():
            example = next((q for d in made if d["decision"] == kind
                            if (q := cite.cite(d["record_id"], d["quote"], d["start"], d["end"]))), None)
            kinds.append({"decision": kind, "count": n, "quote": example})
        role = next((r for r in roles if (r["persona"] or "") == persona and r["phase"] == phase), None)
        polarities = Counter(m["polarity"] for m in here)
        phases.append({"phase": phase, "mentions": len(here),
                       "emotion": sum(m["sentiment"] for m in here) / len(here) if here else None,
                       "positive": polarities["positive"] / len(here) if here else 0.0,
                       "negative": polarities["negative"] / len(here) if here else 0.0,
                       "touchpoints": touchpoints, "decisions": kinds, "role": role})
    curve = charts.emotion_curve([(p["phase"], p["positive"], p["negative"], p["emotion"], p["mentions"]) for p in phases],
                                 f"Emotion across the journey: {persona or 'Unassigned'}")
    return {"persona": persona or "Unassigned", "phases": phases, "curve": Markup(curve), "mentions": len(mine)}


def _network(mentions: list[dict], decisions: list[dict], steps: list[dict]) -> dict:
    """Nodes: the most mentioned touchpoints; links: records mentioning both; arrows: the
    steps customers take from one to the next (the journey stage's, by interview order and
    record dates); rings: where decisions are made and journeys break."""
    counts = Counter(m["touchpoint"] for m in mentions)
    top = [t for t, _ in counts.most_common(NETWORK_NODES)]
    per_record: dict[str, list[dict]] = defaultdict(list)
    for m in mentions:
        if m["touchpoint"] in top:
            per_record[m["record_id"]].append(m)
    together: Counter = Counter()
    for ms in per_record.values():
        together.update(combinations(sorted({m["touchpoint"] for m in ms}), 2))
    order = Counter({(s["a"], s["b"]): s["customers"] for s in steps if s["a"] in top and s["b"] in top})
    decided: Counter = Counter()
    breaks: Counter = Counter()
    for d in decisions:
        for t in d["touchpoints"]:
            decided[t] += 1
            if d["decision"] == "churn":
                breaks[t] += 1
    phase_of = {t: Counter(m["phase"] for m in mentions if m["touchpoint"] == t).most_common(1)[0][0] for t in top}
    nodes = [{"name": t, "phase": phase_of[t], "mentions": counts[t],
              "sentiment": sum(m["sentiment"] for m in mentions if m["touchpoint"] == t) / counts[t],
              "decisions": decided[t], "breaks": breaks[t]} for t in top]
    floor = max(2, sorted(together.values(), reverse=True)[min(30, len(together)) - 1]) if together else 2
    edges = [{"a": a, "b": b, "weight": w} for (a, b), w in together.items() if w >= floor]
    edges += [{"a": a, "b": b, "weight": w, "ordered": True} for (a, b), w in order.items() if w >= MIN_STEP_CUSTOMERS]
    return {"svg": Markup(charts.network(nodes, edges, PHASE_ORDER)),
            "links": sorted(({"a": a, "b": b, "records": w} for (a, b), w in together.items()), key=lambda e: -e["records"])[:8],
            "sequences": [{"a": a, "b": b, "customers": w} for (a, b), w in order.most_common(5) if w >= MIN_STEP_CUSTOMERS],
            "decided": decided.most_common(5), "breaks": breaks.most_common(5)}


CHANGES_SHOWN = 12  # touchpoints in the "what changed" chart: the flagged, then the largest


def _changed(project: Project, reader: RunReader, records: list, cite: Citations) -> dict | None:
    """What changed since the run before this one, when there is one."""
    from valuestory.pipeline.changes import compare, side_of
    previous = RunStore(project.ledger).before(reader.run_id)
    if previous is None:
        return None
    changes = compare(*(side_of(r.run_id, records, r.coding, r.journey, r.personas) for r in (previous, reader)))
    shown = changes.touchpoints[:CHANGES_SHOWN]
    chart = charts.dumbbell([{"touchpoint": c.touchpoint, "before": c.before.value, "after": c.after.value,
                              "flagged": c.flagged} for c in shown], previous.run_id, reader.run_id,
                            "What changed since the previous run")
    return {"since": previous.run_id, "since_at": previous.info.finished_at, "chart": Markup(chart),
            "flagged": [{**c.model_dump(), "cited": [q for s in c.quotes if (q := _span(s.model_dump(), cite))]}
                        for c in changes.flagged],
            "new": changes.new, "vanished": changes.vanished, "measured": len(changes.touchpoints)}


def _promises(reader: RunReader, cite: Citations) -> list[dict]:
    """Broken promises, each pair of quotes checked against its records."""
    out = []
    for p in reader.promises.items:
        delivery = _span(p.delivery.model_dump(), cite)
        promise = _span(p.promise.model_dump(), cite) if p.promise else None
        if delivery is not None and (promise is not None or p.intended):
            out.append({**p.model_dump(), "promise_quote": promise, "delivery_quote": delivery})
    return out


def _span(span: dict | None, cite: Citations) -> Quote | None:
    """A cited span, checked against its record and numbered; None if it is not verbatim there."""
    return cite.cite(span["record_id"], span["text"], span["start"], span["end"]) if span else None


def _statement(s: dict, cite: Citations) -> dict:
    quote = None
    if s.get("verbatim", True) and s.get("records"):
        quote = _span(s["span"], cite) if s.get("span") else cite.cite(s["records"][0], s["text"])
    return {"text": s["text"], "quote": quote, "records": s.get("records", [])}


def _stories(stories: list[dict], briefs: list[dict], cite: Citations) -> list[dict]:
    """Per persona: its brief (profile, focus, storyline) and its hypotheses, the focus
    decision's first."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for h in stories:
        grouped[h["persona"] or "Unassigned"].append({
            **h,
            "context": {k: [_statement(s, cite) for s in v] for k, v in h["context"].items()},
            "motivators": {k: [_statement(s, cite) for s in v] for k, v in h["motivators"].items()},
        })
    brief_of = {b["persona"] or "Unassigned": {
        **b, "storyline": [{"side": m["side"], **_statement(m["statement"], cite)} for m in b["storyline"]]}
        for b in briefs}
    out = []
    for persona in sorted(grouped.keys() | brief_of.keys()):
        brief = brief_of.get(persona)
        focus = brief["focus"]["decision"] if brief else None
        out.append({"persona": persona, "brief": brief,
                    "hypotheses": sorted(grouped[persona], key=lambda h: h["decision"] != focus)})
    return out


def _cited_items(items: list[dict], cite: Citations) -> list[dict]:
    return [{"touchpoint": i["touchpoint"], "text": i["quote"]["text"], "quote": _span(i["quote"], cite)} for i in items]


def _value_maps(maps: list[dict], cite: Citations) -> list[dict]:
    out = []
    for vm in maps:
        empathy = {k: [{"text": q["text"], "quote": _span(q, cite)} for q in v] for k, v in vm["empathy_map"].items()}
        jobs = [{**j, "high_points": _cited_items(j["high_points"], cite), "friction": _cited_items(j["friction"], cite),
                 "value_gap": j["value_gap"]["text"] if j["value_gap"] else "", "gap_quote": _span(j["value_gap"], cite)}
                for j in vm["jobs"]]
        out.append({"persona": vm["persona"] or "Unassigned", "engine": vm["engine"], "empathy": empathy, "jobs": jobs})
    return out


def _opportunities(items: list[dict], cite: Citations) -> list[dict]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for o in items:
        grouped[o["touchpoint"]].append({**o, "cited": [q for span in o["quotes"] if (q := _span(span, cite))]})
    return [{"touchpoint": t, "hypotheses": hs} for t, hs in grouped.items()]


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("valuestory.render", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["signed"] = signed
    env.filters["verdict"] = verdict
    env.filters["pct"] = lambda v: "" if v is None else f"{v:.0%}"
    env.filters["md"] = _md_escape
    env.filters["svg_data"] = lambda svg: "data:image/svg+xml;base64," + base64.b64encode(str(svg).encode()).decode()
    return env


def _md_escape(text: object) -> str:
    """Customer text in Markdown: no markup, no HTML, one line."""
    text = escape(" ".join(str(text).split()), quote=False)
    return re.sub(r"([\\`*_{}\[\]()#+!|~>-])", r"\\\1", text)


def render(project: Project, fmt: str = "html", reader: RunReader | None = None) -> str:
    context = build(project, reader)
    template = _environment().get_template("report.html" if fmt == "html" else "report.md")
    return template.render(**context)


def write(project: Project, output: Path, fmt: str = "html", reader: RunReader | None = None) -> Path:
    text = render(project, fmt, reader)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    return output
