"""Slices: one segment, persona, source kind or date range of the data.

A run can be made on a slice (its corpus cut before the stages), and a finished run can be
read through one (`cut`): its mentions, placements, decisions, steps and promises kept for
the slice's records, and its scores computed again from them, so that fix-first and every
interval are the slice's own. What a run drafts once per persona (stories, roles, value
maps) is kept for the slice's personas; opportunities stay the run's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel

from valuestory.errors import InputError
from valuestory.records import Record

from .artefacts import Coding, Journey, Personas, Promises, Roles, Stories, ValueMaps
from .changes import dated_in, period_range
from .contract import Corpus
from .journey import steps
from .scores import score


@dataclass(frozen=True)
class Slice:
    """Which records: every condition given must hold (a date range leaves undated records out)."""
    segment: str | None = None
    persona: str | None = None
    kind: str | None = None
    since: str | None = None  # a date (2026-07-01) or the start of a period (2026Q3, 2026-07, 2026)
    until: str | None = None  # a date (inclusive) or the end of a period

    def __bool__(self) -> bool:
        return any(dataclasses.astuple(self))

    @property
    def label(self) -> str:
        parts = [f"{name} {value}" for name, value in dataclasses.asdict(self).items() if value]
        return ", ".join(parts)

    def bounds(self) -> tuple[date | None, date | None]:
        """[start, end) of the date range."""
        start = _day(self.since, end=False) if self.since else None
        end = _day(self.until, end=True) if self.until else None
        if start and end and end <= start:
            raise InputError(f"--until {self.until} comes before --since {self.since}", hint="Swap the two dates")
        return start, end

    def keeps(self, record: Record, persona: str | None, start: date | None = None, end: date | None = None) -> bool:
        if self.segment and (record.segment or "").casefold() != self.segment.casefold():
            return False
        if self.persona and (persona or "").casefold() != self.persona.casefold():
            return False
        if self.kind and record.kind != self.kind:
            return False
        return dated_in(record, start, end) if start or end else True

    def record_ids(self, records: list[Record], persona_of: dict[str, str]) -> set[str]:
        """The slice's records; an error naming what there is when nothing matches."""
        start, end = self.bounds()
        kept = {r.record_id for r in records if self.keeps(r, persona_of.get(r.record_id), start, end)}
        if not kept:
            raise InputError(f"no record is in the slice ({self.label})", hint=self._known(records, persona_of))
        return kept

    def _known(self, records: list[Record], persona_of: dict[str, str]) -> str:
        def listed(values: set[str]) -> str:
            return ", ".join(sorted(values)[:12]) or "none"
        hints = []
        if self.segment:
            hints.append(f"segments: {listed({r.segment for r in records if r.segment})}")
        if self.persona:
            hints.append(f"personas: {listed(set(persona_of.values()))}")
        if self.kind:
            hints.append(f"kinds: {listed({r.kind for r in records})}")
        if self.since or self.until:
            dates = sorted(r.date[:10] for r in records if r.date)
            hints.append(f"records are dated {dates[0]} to {dates[-1]}" if dates else "no record has a date")
        return "The data holds " + "; ".join(hints)


def _day(value: str, end: bool) -> date:
    """A date, or a period's first day (or for an end, the day after its last)."""
    try:
        day = date.fromisoformat(value)
        return day + timedelta(days=1) if end else day
    except ValueError:
        pass
    try:
        first, after = period_range(value)
    except ValueError:
        raise InputError(f"{value!r} is neither a date nor a period",
                         hint="Give a date (2026-07-01), a quarter (2026Q3), a month (2026-07) or a year (2026)") from None
    return after if end else first


def cut_corpus(corpus: Corpus, cut: Slice, persona_of: dict[str, str]) -> Corpus:
    """The corpus a run on the slice reads."""
    keep = cut.record_ids(list(corpus.records), persona_of)
    return dataclasses.replace(corpus, records=tuple(r for r in corpus.records if r.record_id in keep),
                               chunks=tuple(c for c in corpus.chunks if c.record_id in keep))


CUT = ("personas", "catalogue", "journey", "promises", "stories", "roles", "valuemap")  # what a slice reads


def cut_artefacts(artefacts: dict[str, BaseModel], records: list[Record], cut: Slice) -> dict[str, BaseModel]:
    """A finished run's artefacts (those in CUT) as the slice sees them, with its scores made
    again (see the module's docstring)."""
    personas: Personas = artefacts["personas"]
    keep = cut.record_ids(records, personas.persona_of)
    kept_records = [r for r in records if r.record_id in keep]
    coding: Coding = artefacts["catalogue"]
    journey: Journey = artefacts["journey"]
    pairs = [(m, p) for m, p in zip(coding.mentions, journey.placements, strict=True) if m.record_id in keep]
    mentions = [m for m, _ in pairs]
    named = {m.touchpoint for m in mentions}
    emerging = [t.model_copy(update={"records": [r for r in t.records if r in keep],
                                     "quotes": [q for q in t.quotes if q.record_id in keep]})
                for t in coding.emerging]
    sliced_coding = coding.model_copy(update={
        "mentions": mentions, "touchpoints": [t for t in coding.touchpoints if t.name in named],
        "emerging": [t for t in emerging if t.records]})
    persona_of = {rid: p for rid, p in personas.persona_of.items() if rid in keep}
    kept_personas = set(persona_of.values())
    out: dict[str, BaseModel] = {"catalogue": sliced_coding}
    out["journey"] = journey.model_copy(update={
        "placements": [p for _, p in pairs], "decisions": [d for d in journey.decisions if d.record_id in keep],
        "steps": steps(kept_records, mentions)})
    out["scores"] = score(mentions, kept_records, sliced_coding.touchpoints)
    out["personas"] = Personas(names=[n for n in personas.names if n in kept_personas], persona_of=persona_of)
    promises: Promises = artefacts["promises"]
    out["promises"] = promises.model_copy(update={"items": [p for p in promises.items if p.delivery.record_id in keep]})
    stories: Stories = artefacts["stories"]
    out["stories"] = stories.model_copy(update={
        "hypotheses": [h for h in stories.hypotheses if h.persona in kept_personas],
        "briefs": [b for b in stories.briefs if b.persona in kept_personas],
        "jobs": {p: j for p, j in stories.jobs.items() if p in kept_personas}})
    roles: Roles = artefacts["roles"]
    out["roles"] = Roles(roles=[r for r in roles.roles if r.persona in kept_personas])
    maps: ValueMaps = artefacts["valuemap"]
    out["valuemap"] = ValueMaps(maps=[m for m in maps.maps if m.persona in kept_personas])
    return out
