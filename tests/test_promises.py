"""Expectation vs delivery: a promise (a rep's note, a customer telling it, a codebook's
intended experience) beside the same customer's, else the same persona's, later complaint."""

from __future__ import annotations

from pathlib import Path

from valuestory.codebook import load_codebook
from valuestory.pipeline.artefacts import Coding, Mention, Personas, TouchpointDef
from valuestory.pipeline.promises import promise_clauses, promises
from valuestory.records import Record

from .test_stages import make_corpus

RECORDS = (
    Record(record_id="sales:1", kind="sales", source="crm.csv", account="Acme", date="2026-01-10",
           text="Rep promised the import would take a day. Good call overall."),
    Record(record_id="nps:1", kind="nps", source="s.csv", account="Acme", date="2026-03-01",
           text="The import took three weeks and lost half our jobs."),
    Record(record_id="nps:2", kind="nps", source="s.csv", account="Other", date="2026-03-02",
           text="The import was slow for us too."),
    Record(record_id="nps:3", kind="nps", source="s.csv", account="Acme", date="2025-12-01",
           text="The import is awful."),  # before the promise: it cannot break it
    Record(record_id="sales:2", kind="sales", source="crm.csv", account="Beta",
           text="Roles delivered as promised, customer happy."),
    Record(record_id="nps:4", kind="nps", source="s.csv", account="Beta", text="Roles are a mess."),
)


def mention(record_id: str, quote: str, touchpoint: str, sentiment: float) -> Mention:
    text = next(r.text for r in RECORDS if r.record_id == record_id)
    start = text.index(quote)
    kind = next(r.kind for r in RECORDS if r.record_id == record_id)
    return Mention(record_id=record_id, kind=kind, touchpoint=touchpoint, quote=quote, start=start,
                   end=start + len(quote), sentiment=sentiment, polarity="negative" if sentiment < 0 else "positive",
                   confidence=0.8)


MENTIONS = [mention("sales:1", "Rep promised the import would take a day", "Data import", 0.3),
            mention("nps:1", "The import took three weeks and lost half our jobs", "Data import", -0.8),
            mention("nps:2", "The import was slow for us too", "Data import", -0.5),
            mention("nps:3", "The import is awful", "Data import", -0.9),
            mention("sales:2", "Roles delivered as promised, customer happy", "Roles", 0.6),
            mention("nps:4", "Roles are a mess", "Roles", -0.7)]


def run(touchpoints=(TouchpointDef(name="Data import"), TouchpointDef(name="Roles")), mentions=MENTIONS):
    corpus = make_corpus(RECORDS)
    personas = Personas(names=["All"], persona_of={r.record_id: "All" for r in RECORDS})
    return promises(corpus, Coding(touchpoints=list(touchpoints), mentions=mentions), personas)


def test_a_promise_is_paired_with_the_same_customers_later_complaint_and_a_kept_one_is_none():
    out = run()
    [broken] = out.items
    assert (broken.touchpoint, broken.source, broken.match) == ("Data import", "sales note", "same customer")
    assert broken.promise.text == "Rep promised the import would take a day."
    # the complaint of the same account after the promise, not the earlier, angrier one
    assert broken.delivery.text == "The import took three weeks and lost half our jobs" and broken.reports == 1
    assert out.reports == {"Data import": 3, "Roles": 1}
    assert promise_clauses(RECORDS[4]) == []  # "delivered as promised" keeps it


def test_without_the_same_customer_the_same_persona_and_a_codebooks_intended_experience(tmp_path: Path):
    out = run(mentions=[m for m in MENTIONS if m.record_id != "nps:1"])
    [broken] = out.items
    assert (broken.match, broken.delivery.record_id, broken.reports) == ("same persona", "nps:2", 1)
    book = tmp_path / "codebook.csv"
    book.write_text("name,intended\nData import,Your history moves over in a day\nRoles,\n", encoding="utf-8")
    defs = load_codebook(book)
    assert [t.intended for t in defs] == ["Your history moves over in a day", ""]
    out = run(tuple(defs))
    intended = [p for p in out.items if p.source == "codebook intended"]
    assert [(p.touchpoint, p.intended, p.match, p.delivery.record_id) for p in intended] == [
        ("Data import", "Your history moves over in a day", "any customer", "nps:3")]  # the most negative
