"""What each workspace page shows, read from a project's stored runs and records: the same
readers, slices, comparisons, search and exports as the CLI, arranged for a page. No HTTP
here (`web.py` takes the requests)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from valuestory.errors import InputError, ValuestoryError
from valuestory.pipeline.artefacts import Mention
from valuestory.pipeline.recode import Recode
from valuestory.pipeline.slices import Slice
from valuestory.pipeline.text import NOTE_KINDS, asked
from valuestory.project import Project
from valuestory.recoding import queue
from valuestory.records import Record
from valuestory.stores.recodes import RecodeStore
from valuestory.stores.runs import RunReader, RunStore

CONTEXT_CHARS = 220  # of a record shown either side of a quote
MENTIONS_PER_PAGE = 50
REVIEW_BATCH = 20
SLICE_FIELDS = ("segment", "persona", "kind", "since", "until")
MAX_QUERY_CHARS = 500
MAX_SLICE_CHARS = 100


class UnknownRun(InputError):
    """A page asked for a run the project does not hold."""


@dataclass
class Cited:
    """A quote in its record's context: the words before, the quote, the words after."""
    record_id: str
    kind: str
    voice: str
    date: str
    before: str
    quote: str
    after: str
    start: int
    end: int
    asked: str = ""


def reader_for(project: Project, run_id: str = "") -> RunReader:
    """The run asked for (default the latest)."""
    store = RunStore(project.ledger)
    if not store.has_runs():
        raise InputError("this project has no run yet", hint="Run `valuestory run` first, then reload the page")
    return run_of(store, run_id) if run_id else store.latest()


def run_of(store: RunStore, run_id: str) -> RunReader:
    """A finished run by its id (or a unique start of it); UnknownRun naming the latest if none."""
    if re.fullmatch(r"[\w-]{1,64}", run_id):
        try:
            return store.get(run_id)
        except ValuestoryError:
            pass
    latest = ", ".join(i.run_id for i in store.all()[:3] if i.status == "done")
    raise UnknownRun(f"no finished run {run_id[:64]!r} in this project", hint=f"The latest: {latest or 'none yet'}")


def slice_from(params: dict[str, str]) -> Slice | None:
    """The slice a page's query names (blank fields: none), checked before any work."""
    values = {f: (params.get(f) or "").strip() or None for f in SLICE_FIELDS}
    for name, value in values.items():
        if value and len(value) > MAX_SLICE_CHARS:
            raise InputError(f"the {name} is {len(value)} characters long", hint=f"Give at most {MAX_SLICE_CHARS}")
    if values["kind"] and values["kind"] not in ("interview", "nps", "support", "sales", "feedback"):
        raise InputError(f"no kind {values['kind']!r}", hint="Kinds: interview, nps, support, sales, feedback")
    cut = Slice(**values)
    cut.bounds()
    return cut or None


def choices(project: Project, reader: RunReader) -> dict[str, list[str]]:
    """What the slice form offers: the data's segments, personas and kinds, and the runs."""
    ledger = project.ledger
    return {"segment": ledger.segments(), "persona": sorted(set(reader.personas.persona_of.values())),
            "kind": sorted({kind for kind, *_ in ledger.counts_by_kind()}),
            "runs": [i.run_id for i in RunStore(project.ledger).all() if i.status == "done"]}


def voice(record: Record, at: int) -> str:
    """Who speaks at `at`: the speaker of a conversation's turn (customer or company), a rep
    writing about the customer, or the respondent."""
    for turn in record.turns:
        if turn.start <= at < turn.end:
            role = {"customer": "customer", "company": "company"}.get(turn.role, "speaker")
            return f"{turn.speaker} ({role})"
    if record.kind in NOTE_KINDS:
        return "sales rep's note about the customer"
    return "customer" + (f" {record.respondent}" if record.respondent else "")


def cited(record: Record, start: int, end: int) -> Cited:
    """The span in its context: within its turn for a conversation, else the record's words
    around it, cut at spaces."""
    lo, hi = 0, len(record.text)
    for turn in record.turns:
        if turn.start <= start < turn.end:
            lo, hi = turn.start, turn.end
    a = max(lo, start - CONTEXT_CHARS)
    b = min(hi, end + CONTEXT_CHARS)
    if a > lo:
        a = record.text.find(" ", a, start) + 1 or a
    if b < hi:
        b = record.text.rfind(" ", end, b) if record.text.rfind(" ", end, b) > end else b
    text = record.text
    return Cited(record.record_id, record.kind, voice(record, start), record.date or "",
                 ("…" if a > lo else "") + text[a:start], text[start:end], text[end:b] + ("…" if b < hi else ""),
                 start, end, asked(record, start) or "")


def mentions_of(project: Project, reader: RunReader, touchpoint: str, page: int = 1) -> tuple[list[dict], int]:
    """One page of the touchpoint's mentions, least confident first, each in its record's
    context, and how many there are in all."""
    persona_of = reader.personas.persona_of
    found = sorted(((m, place) for m, place in zip(reader.coding.mentions, reader.journey.placements, strict=True)
                    if m.touchpoint == touchpoint), key=lambda mp: (mp[0].confidence, mp[0].record_id, mp[0].start))
    shown = found[(page - 1) * MENTIONS_PER_PAGE:page * MENTIONS_PER_PAGE]
    records = project.ledger.records_by_id(m.record_id for m, _ in shown)
    return [{"mention": m, "persona": persona_of.get(m.record_id) or "Unassigned", "phase": place.phase,
             "cited": cited(records[m.record_id], m.start, m.end)} for m, place in shown if m.record_id in records], \
        len(found)


def review_queue(project: Project, reader: RunReader, limit: int = REVIEW_BATCH) -> list[dict]:
    """The least certain mentions without a verdict, in context."""
    decided = {(r.record_id, t) for r in RecodeStore(project.ledger).active() for t in r.texts}
    todo = queue(list(reader.coding.mentions), decided)[:limit]
    records = project.ledger.records_by_id(m.record_id for m in todo)
    return [{"mention": m, "cited": cited(records[m.record_id], m.start, m.end)} for m in todo if m.record_id in records]


def find_mention(reader: RunReader, record_id: str, touchpoint: str, start: int) -> Mention:
    """The run's mention a form speaks of; an InputError when the run has none such."""
    for m in reader.coding.mentions:
        if m.record_id == record_id and m.touchpoint == touchpoint and m.start == start:
            return m
    raise InputError(f"the run has no mention of {touchpoint!r} at {start} in {record_id}",
                     hint="Reload the page: the run may have changed")


def pending(project: Project, reader: RunReader) -> dict:
    """The decisions the run shown does not reflect yet: made, or undone, since it ran."""
    applied = set(reader.coding.recoded)
    decisions = RecodeStore(project.ledger).all()
    new = [r for r, undone in decisions if not undone and r.number not in applied]
    taken_back = [r for r, undone in decisions if undone and r.number in applied]
    return {"new": new, "undone": taken_back, "count": len(new) + len(taken_back)}


def decisions(project: Project, reader: RunReader) -> list[tuple[Recode, str | None, int | None]]:
    """Every decision in order with when it was undone and the mentions it changed in the run."""
    return [(r, undone, reader.coding.recoded.get(r.number)) for r, undone in RecodeStore(project.ledger).all()]


def record_page(reader: RunReader, record: Record, mark: tuple[int, int] | None) -> dict:
    """A whole record in pieces, each mention's span highlighted with its touchpoints, and the
    span asked for (a quote followed from another page) marked apart."""
    here = [m for m in reader.coding.mentions if m.record_id == record.record_id]
    cuts = sorted({0, len(record.text)} | {p for m in here for p in (m.start, m.end)}
                  | (set(mark) if mark else set()) | {p for t in record.turns for p in (t.start, t.end)})
    pieces = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        codes = sorted({m.touchpoint for m in here if m.start <= a and b <= m.end})
        turn = next((t for t in record.turns if t.start == a), None)
        pieces.append({"text": record.text[a:b], "codes": codes, "marked": bool(mark and mark[0] <= a and b <= mark[1]),
                       "speaker": voice(record, a) if turn else ""})
    return {"record": record, "pieces": pieces, "mentions": sorted(here, key=lambda m: m.start),
            "persona": reader.personas.persona_of.get(record.record_id) or "Unassigned"}


def search_hits(project: Project, query: str, kind: str, n: int) -> list[dict]:
    """`valuestory search`, checked: a query of at most MAX_QUERY_CHARS characters."""
    from valuestory.stores.search import search
    query = " ".join(query.split())
    if not query:
        raise InputError("type what to look for", hint="A few words, e.g. 'waiting for the refund'")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(f"the query is {len(query):,} characters long",
                         hint=f"Search with at most {MAX_QUERY_CHARS} characters: the words that matter")
    return search(project, query, n, kind or None)
