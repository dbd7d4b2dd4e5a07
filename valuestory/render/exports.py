"""`valuestory export KIND`: a run's artefacts as table rows (CSV) or records (JSON).

Rows are built from the typed artefacts the run reader gives; quotes keep their record and
span in JSON, and read as text in CSV cells (lists become ' | '-separated cells).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from typing import TextIO

from valuestory.pipeline.artefacts import CitedItem, CitedSpan, PersonaScorecards
from valuestory.pipeline.journey import PHASES
from valuestory.pipeline.scores import by_persona
from valuestory.stores.runs import RunReader

MENTION_COLUMNS = ["record_id", "kind", "touchpoint", "channel", "sentiment", "polarity", "did_job", "confidence",
                   "quote", "start", "end", "chunk_id", "engine", "model", "prompt_version"]
DECISION_COLUMNS = ["persona", "record_id", "kind", "respondent", "decision", "phase", "outcome", "quote", "start",
                    "end", "position", "touchpoints"]
OUTPUT_COLUMNS = {
    "roles": ["persona", "phase", "role", "transactional_role", "target_story", "verdict", "assessment", "strength",
              "mentions", "records", "supporting_touchpoints", "undermining_touchpoints", "supporting_quotes",
              "undermining_quotes", "engine"],
    "opportunities": ["touchpoint", "rank", "hypothesis", "change", "resources", "success_measure",
                      "unintended_consequences", "friction", "evidence", "quotes", "engine"],
    "stories": ["persona", "decision", "explicit_story", "implicit_story", "confidence", "evidence", "focus",
                "engine"],
    "valuemap": ["persona", "job", "desired_outcome", "key_touchpoints", "high_points", "friction", "value_gap",
                 "internal_processes", "opportunities", "value_promise", "statements", "evidence", "engine"],
}
PROMISE_COLUMNS = ["touchpoint", "source", "promise", "promise_record", "intended", "delivery", "delivery_record",
                   "match", "reports"]
BRIEF_COLUMNS = ["persona", "profile", "focus_phase", "focus_decision", "focus_reason", "time_to_value_days",
                 "time_to_value", "storyline", "storyline_draft", "engine"]
KINDS = ("mentions", "touchpoints", "codebook", "scores", "personas", "decisions", "journeys", *OUTPUT_COLUMNS, "emerging",
         "promises", "briefs", "steps")


def rows(reader: RunReader, what: str, csv: bool) -> list[dict]:
    """The rows of one export of a run."""
    if what == "mentions":
        return [{**{c: getattr(m, c) for c in MENTION_COLUMNS},
                 "did_job": None if m.did_job is None else int(m.did_job), "run_id": reader.run_id}
                for m in reader.coding.mentions]
    if what in COMPUTED:
        return COMPUTED[what](reader)
    if what == "decisions":
        decisions = sorted(reader.journey.decisions, key=lambda d: (d.persona, d.record_id, d.position))
        return [{**{c: getattr(d, c) for c in DECISION_COLUMNS}, "touchpoints": json.dumps(d.touchpoints)}
                for d in decisions]
    if what == "promises":
        items = reader.promises.items
        if not csv:
            return [p.model_dump(mode="json") for p in items]
        flat = [{**p.model_dump(include={"touchpoint", "source", "intended", "match", "reports"}),
                 "promise": p.promise.text if p.promise else "", "promise_record": p.promise.record_id if p.promise else "",
                 "delivery": p.delivery.text, "delivery_record": p.delivery.record_id} for p in items]
        return [{c: r[c] for c in PROMISE_COLUMNS} for r in flat]
    if what == "steps":
        return [st.model_dump() for st in reader.journey.steps]
    if what == "briefs":
        briefs = reader.stories.briefs
        if not csv:
            return [b.model_dump(mode="json") for b in briefs]
        flat = [{"persona": b.persona, "profile": " | ".join(b.profile), "focus_phase": b.focus.phase or "",
                 "focus_decision": b.focus.decision or "", "focus_reason": b.focus.reason,
                 "time_to_value_days": b.time_to_value.median_days if b.time_to_value else None,
                 "time_to_value": b.time_to_value.reason if b.time_to_value else "",
                 "storyline": " | ".join(f"{m.side}: {m.statement.records[0]}: “{m.statement.text}”" for m in b.storyline),
                 "storyline_draft": b.storyline_draft, "engine": b.engine} for b in briefs]
        return [{c: r[c] for c in BRIEF_COLUMNS} for r in flat]
    if what == "emerging":
        themes = reader.coding.emerging
        if not csv:
            return [t.model_dump(mode="json") for t in themes]
        return [{"theme": t.theme, "description": t.description, "records": len(t.records),
                 "record_ids": " | ".join(t.records),
                 "quotes": " | ".join(f"{q.record_id}: “{q.text}”" for q in t.quotes)} for t in themes]
    items = {"roles": reader.roles.roles, "stories": reader.stories.hypotheses,
             "opportunities": reader.opportunities.items, "valuemap": reader.value_maps.maps}[what]
    if not csv:
        return [i.model_dump(mode="json") for i in items]
    if what == "valuemap":  # one row per persona and job
        flat = [{"persona": v.persona, **dict(job), "engine": v.engine} for v in items for job in v.jobs]
    else:
        flat = [dict(i) for i in items]
    return [{c: _cell(r[c]) for c in OUTPUT_COLUMNS[what]} for r in flat]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as a formula


def write_csv(rows: list[dict], out: TextIO) -> None:
    """Rows as CSV, the first row's keys the header; cells a spreadsheet would run as a
    formula are made text."""
    if rows:
        writer = csv.DictWriter(out, list(rows[0]))
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)


def spreadsheet_safe(value: object) -> object:
    """A CSV cell no spreadsheet runs: text that starts like a formula (`=HYPERLINK(...)`,
    `@SUM(...)`, `+1`, `-2+3`) gets a leading apostrophe, the OWASP remedy, which spreadsheets
    show as plain text. Numbers stay numbers; JSON exports keep the text exactly."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _cell(value: object) -> object:
    if isinstance(value, list):
        return " | ".join(map(_text, value))
    return _text(value) if isinstance(value, CitedSpan | CitedItem) else value


def _text(value: object) -> str:
    """A quote as a reader reads it in a cell."""
    if isinstance(value, CitedItem):
        return f"{value.touchpoint}: “{value.quote.text}”"
    if isinstance(value, CitedSpan):
        return value.text
    return str(value)


def _touchpoints(reader: RunReader) -> list[dict]:
    overall = {s.touchpoint: s for s in reader.scores.scores if s.scope == "overall"}
    out = [{"touchpoint": t.name, "description": t.description, "channel": t.channel,
            "mentions": overall[t.name].mentions if t.name in overall else 0,
            "respondents": overall[t.name].respondents if t.name in overall else 0,
            "owner": t.owner, "effort": t.effort, "origin": t.origin, "tags": " | ".join(t.tags)}
           for t in reader.coding.touchpoints]
    return sorted(out, key=lambda r: -r["mentions"])


def _scores(reader: RunReader) -> list[dict]:
    out = []
    for s in reader.scores.scores:
        out.append({"touchpoint": s.touchpoint, "scope": s.scope,
                    "emotional_impact": s.emotional_impact.value, "emotional_impact_low": s.emotional_impact.low,
                    "emotional_impact_high": s.emotional_impact.high,
                    "functional_performance": s.functional_performance.value,
                    "frequency": s.frequency, "mentions": s.mentions, "respondents": s.respondents,
                    "business_impact": s.business_impact, "nps_impact": s.nps_impact.value,
                    "nps_impact_low": s.nps_impact.low, "nps_impact_high": s.nps_impact.high,
                    "nps_mentioners": s.nps_mentioners, "rating_impact": s.rating_impact.value,
                    "rating_impact_low": s.rating_impact.low, "rating_impact_high": s.rating_impact.high,
                    "rating_mentioners": s.rating_mentioners, "rating_others": s.rating_others,
                    "rated_mentioners": s.rated_mentioners,
                    "rating_scale": s.rating_scale, "lost_deal_rate": s.lost_deal_rate,
                    "churn_rate": s.churn_rate, "effort": s.effort, "priority": s.priority, "rank": s.rank})
    return out


def persona_scorecards(reader: RunReader, records: list | None = None) -> PersonaScorecards:
    """Each persona's scorecard for a run (or its slice), computed from its artefacts."""
    records = records if records is not None else [
        r for r in reader.ledger.records() if r.record_id in reader.personas.persona_of]
    return by_persona(reader.coding.mentions, records, reader.coding.touchpoints, reader.personas.persona_of)


def _persona_scores(reader: RunReader) -> list[dict]:
    out = []
    for p in persona_scorecards(reader).scores:
        s, v = p.score, p.versus_rest
        out.append({"persona": p.persona, "touchpoint": s.touchpoint, "rank": s.rank, "mentions": s.mentions,
                    "respondents": s.respondents, "emotional_impact": s.emotional_impact.value,
                    "emotional_impact_low": s.emotional_impact.low, "emotional_impact_high": s.emotional_impact.high,
                    "functional_performance": s.functional_performance.value, "frequency": s.frequency,
                    "nps_impact": s.nps_impact.value, "rating_impact": s.rating_impact.value,
                    "business_impact": s.business_impact, "priority": s.priority,
                    "versus_rest": v.value, "versus_rest_low": v.low, "versus_rest_high": v.high,
                    "differs_from_rest": int(p.differs)})
    return out


def _journeys(reader: RunReader) -> list[dict]:
    """Per persona, phase, stage and touchpoint: emotional impact, mentions and records."""
    groups: dict[tuple, list] = defaultdict(list)
    for m, p in zip(reader.coding.mentions, reader.journey.placements, strict=True):
        groups[(p.persona, p.phase, p.stage, p.purchase, m.touchpoint)].append(m)
    order = {phase: i for i, phase in enumerate(PHASES, start=1)}
    out = [{"persona": persona, "phase": phase, "stage": stage, "purchase": purchase, "touchpoint": touchpoint,
            "emotional_impact": round(sum(m.sentiment for m in ms) / len(ms), 3), "mentions": len(ms),
            "records": len({m.record_id for m in ms})}
           for (persona, phase, stage, purchase, touchpoint), ms in sorted(groups.items())]
    return sorted(out, key=lambda r: (r["persona"], order.get(r["phase"], len(order) + 1), -r["mentions"]))


def _codebook(reader: RunReader) -> list[dict]:
    """The catalogue as the researcher has shaped it, in the codebook's own columns: give it
    back with `valuestory run --codebook FILE`."""
    counts = defaultdict(int)
    for m in reader.coding.mentions:
        counts[m.touchpoint] += 1
    return [{"name": t.name, "description": t.description, "examples": " | ".join(t.examples), "channel": t.channel,
             "owner": t.owner, "effort": t.effort, "intended": t.intended, "tags": " | ".join(t.tags),
             "origin": t.origin, "mentions": counts[t.name]} for t in reader.coding.touchpoints]


COMPUTED = {"touchpoints": _touchpoints, "scores": _scores, "personas": _persona_scores, "journeys": _journeys,
            "codebook": _codebook}
