"""Expectation vs delivery: what customers were promised, beside what they later report.

Seed 004 asks "where are the biggest gaps between our intended experience and what customers
report?". A promise is
- a rep's CRM note that promises something ("promised the import would take a day"),
- a customer reporting a promise made to them ("the rep promised to migrate our history"),
- or the experience a codebook says is intended at a touchpoint (its `intended` column).
Each is paired, per touchpoint, with the most negative report of the same customer (same
account or respondent), else of the same persona, dated no earlier than the promise where
both are dated: a "broken promise" with the two quotes side by side. Nothing is drafted;
pairs and counts come from the coding.
"""

from __future__ import annotations

import re
from collections import defaultdict

from valuestory.records import Record

from .artefacts import BrokenPromise, CitedSpan, Coding, Mention, Personas, Promises
from .contract import Corpus, Stage, stages
from .text import NOT_EVIDENCE, NOTE_KINDS, clauses

# Words that make a promise, said by the company (in a rep's note) or reported by a customer.
PROMISE = re.compile(r"\b(?:promis(?:e|ed|es|ing)|guarantee[ds]?|assured (?:us|me|them|him|her)|committed to|"
                     r"(?:was|were|is|are) supposed to|said (?:it|they|we|you) would|told (?:us|me|them|him|her) "
                     r"(?:it|they|we|you) (?:would|could|will|can)|advertis(?:ed|es)|claims? to|sold (?:us|me|them) on)\b",
                     re.I)
# A promise kept is no gap: "delivered as promised", "just as they promised".
KEPT = re.compile(r"\b(?:as promised|as (?:they|we|you|he|she) promised|kept (?:a|their|its|the|our|his|her|every) "
                  r"promise|delivered on)\b", re.I)
BROKEN_AT = -0.2  # a report at or below this sentiment breaks a promise
PER_TOUCHPOINT = 3  # promises shown per touchpoint


def promise_clauses(record: Record) -> list[CitedSpan]:
    """The clauses of a record that make or report a promise not said to be kept."""
    return [c.span for c in clauses(record) if PROMISE.search(c.text) and not KEPT.search(c.text)
            and not NOT_EVIDENCE.search(c.text)]


def promises(corpus: Corpus, catalogue: Coding, personas: Personas) -> Promises:
    records = corpus.by_id
    by_record: dict[str, list[Mention]] = defaultdict(list)
    for m in catalogue.mentions:
        by_record[m.record_id].append(m)
    complaints: dict[str, list[Mention]] = defaultdict(list)  # touchpoint -> customers' negative reports
    for m in catalogue.mentions:
        if m.sentiment <= BROKEN_AT and m.kind not in NOTE_KINDS:
            complaints[m.touchpoint].append(m)
    out: list[BrokenPromise] = []
    for r in corpus.records:
        for span in promise_clauses(r):
            about = sorted({m.touchpoint for m in by_record[r.record_id] if m.start < span.end and span.start < m.end})
            source = "sales note" if r.kind in NOTE_KINDS else "customer reports"
            for touchpoint in about:
                if found := _delivery(r, span, complaints[touchpoint], records, personas):
                    out.append(BrokenPromise(touchpoint=touchpoint, source=source, promise=span, **found))
    for t in catalogue.touchpoints:
        if t.intended and (found := _delivery(None, None, complaints[t.name], records, personas)):
            out.append(BrokenPromise(touchpoint=t.name, source="codebook intended", intended=t.intended, **found))
    reports = {t: len({m.record_id for m in ms}) for t, ms in complaints.items()}
    kept: dict[str, list[BrokenPromise]] = defaultdict(list)
    for p in sorted(out, key=lambda p: (MATCH_ORDER.index(p.match), p.delivery.record_id)):
        if len(kept[p.touchpoint]) < PER_TOUCHPOINT:
            kept[p.touchpoint].append(p)
    ranked = sorted(kept, key=lambda t: (-reports[t], t))  # the biggest gaps first
    return Promises(items=[p for t in ranked for p in kept[t]], reports=reports)


MATCH_ORDER = ("same customer", "same persona", "any customer")


def _delivery(record: Record | None, span: CitedSpan | None, complaints: list[Mention], records: dict[str, Record],
              personas: Personas) -> dict | None:
    """The most negative later report at the touchpoint: the same customer's, else the same
    persona's; for a codebook's intended experience, anyone's."""
    def later(m: Mention) -> bool:
        said = records[m.record_id].date
        return record is None or not (said and record.date) or said >= record.date

    def same_customer(m: Mention) -> bool:
        other = records[m.record_id]
        return bool((record.account and other.account == record.account)
                    or (record.respondent and other.respondent == record.respondent))

    candidates = [m for m in complaints if later(m) and (span is None or m.record_id != span.record_id
                                                          or not (m.start < span.end and span.start < m.end))]
    tiers = [("any customer", candidates)] if record is None else [
        ("same customer", [m for m in candidates if same_customer(m)]),
        ("same persona", [m for m in candidates
                          if personas.persona_of.get(m.record_id) == personas.persona_of.get(record.record_id)])]
    for match, found in tiers:
        if found:
            worst = min(found, key=lambda m: (m.sentiment, m.record_id, m.start))
            return {"match": match, "reports": len({m.record_id for m in found}),
                    "delivery": CitedSpan(record_id=worst.record_id, start=worst.start, end=worst.end, text=worst.quote)}
    return None


STAGE = stages.register("promises")(Stage(
    name="promises", needs=("corpus", "catalogue", "personas"), produces=Promises, version="promises.1",
    offline=promises))
