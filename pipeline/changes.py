"""What changed between two sides: two runs, or two periods of one run by record date.

Per touchpoint, the change of its emotional impact with a bootstrap interval of the
difference, flagged only when the interval excludes 0; its rank before and after (each side
scored on its own); touchpoints that are new or vanished; the churn and advocacy rates per
persona; emerging themes that grew. Pure: it reads the two sides' mentions, records and
decisions, as the run stores them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from pydantic import BaseModel

from valuestory.records import Record
from valuestory.stats import RESAMPLES, SEED, Interval, bootstrap_difference, bootstrap_mean, excludes_zero

from .artefacts import CitedSpan, Coding, Decision, EmergingTheme, Journey, Mention, Personas, TouchpointDef
from .scores import score
from .text import NOT_EVIDENCE, NOTE_KINDS

MIN_MENTIONS = 3  # a side needs this many mentions of a touchpoint for a change to be measured
QUOTES = 2  # quotes shown behind a flagged change
RATES = ("churn", "integration")  # decision rates followed per persona: leaving, advocacy
DIGITS = 3


@dataclass
class Side:
    """One side of a comparison: what a run (or a period of it) holds."""
    label: str
    records: list[Record]
    mentions: list[Mention]
    touchpoints: list[TouchpointDef] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    persona_of: dict[str, str] = field(default_factory=dict)
    emerging: list[EmergingTheme] = field(default_factory=list)


def side_of(label: str, records: list[Record], coding: Coding, journey: Journey, personas: Personas) -> Side:
    """A run's side, from its artefacts."""
    return Side(label=label, records=records, mentions=coding.mentions, touchpoints=coding.touchpoints,
                decisions=journey.decisions, persona_of=personas.persona_of, emerging=coding.emerging)


class ScoreChange(BaseModel):
    touchpoint: str
    before: Interval
    after: Interval
    difference: Interval
    flagged: bool  # the difference's interval excludes 0
    rank_before: int | None = None
    rank_after: int | None = None
    quotes: list[CitedSpan] = []  # the after side's words in the direction of the change


class RateChange(BaseModel):
    persona: str
    decision: str
    before: float | None
    after: float | None
    records_before: int
    records_after: int


class ThemeChange(BaseModel):
    theme: str
    before: int
    after: int


class Changes(BaseModel):
    before: str
    after: str
    records_before: int
    records_after: int
    touchpoints: list[ScoreChange]  # flagged first, the largest changes first
    new: list[str]
    vanished: list[str]
    rates: list[RateChange]
    themes: list[ThemeChange]

    @property
    def flagged(self) -> list[ScoreChange]:
        return [c for c in self.touchpoints if c.flagged]


def compare(before: Side, after: Side, n: int = RESAMPLES) -> Changes:
    rank_a, rank_b = _ranks(before), _ranks(after)
    ms_a, ms_b = _by_touchpoint(before.mentions), _by_touchpoint(after.mentions)
    rng = np.random.default_rng(SEED)
    out = []
    for tp in sorted(ms_a.keys() & ms_b.keys()):
        a = np.array([m.sentiment for m in ms_a[tp]])
        b = np.array([m.sentiment for m in ms_b[tp]])
        if len(a) < MIN_MENTIONS or len(b) < MIN_MENTIONS:
            continue
        diff = bootstrap_difference(a, b, rng, n, DIGITS)
        flagged = excludes_zero(diff)
        # the quotes behind a change are customers' own words: no rep's notes, no lines addressed to an AI
        own = [m for m in ms_b[tp] if m.kind not in NOTE_KINDS and not NOT_EVIDENCE.search(m.quote)]
        toward = sorted(own, key=lambda m: -m.sentiment if (diff.value or 0) > 0 else m.sentiment)
        quotes = list({m.record_id: m.span for m in reversed(toward)}.values())[::-1][:QUOTES] if flagged else []
        out.append(ScoreChange(touchpoint=tp, before=_mean(a, rng), after=_mean(b, rng), difference=diff,
                               flagged=flagged, rank_before=rank_a.get(tp), rank_after=rank_b.get(tp), quotes=quotes))
    out.sort(key=lambda c: (not c.flagged, -abs(c.difference.value or 0), c.touchpoint))
    seen_a = {tp for tp, ms in ms_a.items() if len(ms) >= MIN_MENTIONS}
    seen_b = {tp for tp, ms in ms_b.items() if len(ms) >= MIN_MENTIONS}
    return Changes(before=before.label, after=after.label, records_before=len(before.records),
                   records_after=len(after.records), touchpoints=out,
                   new=sorted(seen_b - ms_a.keys()), vanished=sorted(seen_a - ms_b.keys()),
                   rates=_rates(before, after), themes=_themes(before, after))


def _by_touchpoint(mentions: list[Mention]) -> dict[str, list[Mention]]:
    out: dict[str, list[Mention]] = {}
    for m in mentions:
        out.setdefault(m.touchpoint, []).append(m)
    return out


def _mean(values: np.ndarray, rng: np.random.Generator) -> Interval:
    interval = bootstrap_mean(values, rng, DIGITS)
    return interval.model_copy(update={"n": len(values)})


def _ranks(side: Side) -> dict[str, int]:
    card = score(side.mentions, side.records, side.touchpoints)
    return {s.touchpoint: s.rank for s in card.scores if s.scope == "overall" and s.rank}


def _rates(before: Side, after: Side) -> list[RateChange]:
    """Per persona, the share of its records holding each followed decision."""
    def rates(side: Side) -> tuple[dict[tuple[str, str], float], Counter]:
        sizes = Counter(side.persona_of.get(r.record_id, "") for r in side.records)
        holding: dict[tuple[str, str], set[str]] = {}
        for d in side.decisions:
            if d.decision in RATES:
                holding.setdefault((d.persona, d.decision), set()).add(d.record_id)
        return {k: round(len(v) / sizes[k[0]], DIGITS) for k, v in holding.items() if sizes[k[0]]}, sizes
    a, sizes_a = rates(before)
    b, sizes_b = rates(after)
    personas = sorted((sizes_a.keys() | sizes_b.keys()) - {""}) or [""]
    return [RateChange(persona=p, decision=k, before=a.get((p, k), 0.0 if sizes_a[p] else None),
                       after=b.get((p, k), 0.0 if sizes_b[p] else None), records_before=sizes_a[p],
                       records_after=sizes_b[p]) for p in personas for k in RATES]


def _themes(before: Side, after: Side) -> list[ThemeChange]:
    a = {t.theme: len(t.records) for t in before.emerging}
    b = {t.theme: len(t.records) for t in after.emerging}
    return sorted((ThemeChange(theme=t, before=a.get(t, 0), after=n) for t, n in b.items() if n > a.get(t, 0)),
                  key=lambda t: -(t.after - t.before))


PERIOD = re.compile(r"^(\d{4})(?:[-_ ]?Q([1-4])|-(\d{2}))?$", re.I)


def period_range(period: str) -> tuple[date, date]:
    """[start, end) of "2026Q2", "2026-07" or "2026"."""
    m = PERIOD.match(period.strip())
    if not m:
        raise ValueError(f"{period!r} is not a period: give a quarter (2026Q2), a month (2026-07) or a year (2026)")
    year = int(m.group(1))
    if m.group(2):
        q = int(m.group(2))
        return date(year, 3 * q - 2, 1), date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    if m.group(3):
        month = int(m.group(3))
        if not 1 <= month <= 12:
            raise ValueError(f"{period!r}: there is no month {month}")
        return date(year, month, 1), date(year + (month == 12), 1 if month == 12 else month + 1, 1)
    return date(year, 1, 1), date(year + 1, 1, 1)


def dated_in(record: Record, start: date | None, end: date | None) -> bool:
    """Whether a record is dated in [start, end); an undated record is in no period."""
    if not record.date:
        return False
    day = date.fromisoformat(record.date[:10])
    return (start is None or day >= start) and (end is None or day < end)


def within(side: Side, start: date | None, end: date | None, label: str) -> Side:
    """The part of a side whose records are dated in [start, end)."""
    ids = {r.record_id for r in side.records if dated_in(r, start, end)}
    return Side(label=label, records=[r for r in side.records if r.record_id in ids],
                mentions=[m for m in side.mentions if m.record_id in ids], touchpoints=side.touchpoints,
                decisions=[d for d in side.decisions if d.record_id in ids], persona_of=side.persona_of,
                emerging=[t.model_copy(update={"records": [r for r in t.records if r in ids]}) for t in side.emerging])
