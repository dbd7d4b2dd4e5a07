"""What a run holds per record and per mention: a million-response run holds a million
records and some two million mentions at once, so their size per item is what decides
whether it fits (benchmarks/scale.py). Sizes are counted by tracemalloc, not timed."""

from __future__ import annotations

import csv
import json
import tracemalloc

from valuestory.ingest.ingest import ingest
from valuestory.pipeline.artefacts import Coding, Mention
from valuestory.pipeline.contract import ChunkRef, StoredChunks
from valuestory.pipeline.journey import steps
from valuestory.pipeline.run import corpus_from
from valuestory.records import Record


def _bytes_each(make, n: int = 20_000) -> float:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        held = [make(i) for i in range(n)]
        return (tracemalloc.get_traced_memory()[0] - before) / len(held)
    finally:
        tracemalloc.stop()


def _mention(i: int, quote: str = "the payouts took five days") -> Mention:
    return Mention.trusted(record_id=f"nps:{i}", kind="nps", touchpoint="Payouts", channel="product", quote=quote,
                           start=0, end=len(quote), sentiment=-0.5, polarity="negative", did_job=False,
                           confidence=0.7)


def test_a_mention_holds_its_fields_and_no_more():
    # a pydantic model's dict and field set took some 550 bytes; the slotted mention about 180
    # (its record id here is its own string of some 60 bytes: in a run it is the record's)
    assert not hasattr(_mention(0), "__dict__")
    assert _bytes_each(_mention) < 300


def test_a_mention_reads_and_writes_as_before():
    m = Mention(record_id="nps:1", kind="nps", touchpoint="Payouts", quote="paid late", start=0, end=9,
                sentiment=-0.5, polarity="negative", confidence=0.7)
    assert m == _mention(1, "paid late").model_copy(update={"channel": None, "did_job": None})
    coding = Coding(touchpoints=[], mentions=[m])
    assert coding.mentions[0] is m  # not copied into the artefact
    stored = coding.model_dump_json()
    assert json.loads(stored)["mentions"][0] == {
        "record_id": "nps:1", "kind": "nps", "touchpoint": "Payouts", "channel": None, "quote": "paid late",
        "start": 0, "end": 9, "sentiment": -0.5, "polarity": "negative", "did_job": None, "confidence": 0.7,
        "chunk_id": None, "engine": "offline-v1", "model": "", "prompt_version": "", "phase": None, "decision": None}
    assert Coding.model_validate_json(stored) == coding
    assert m.model_dump(include={"quote", "start"}) == {"quote": "paid late", "start": 0}
    assert m.model_copy(update={"touchpoint": "Invoicing"}).touchpoint == "Invoicing" and m.touchpoint == "Payouts"


def _responses(tmp_path, n: int):
    path = tmp_path / "responses.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Response ID", "Date", "Score", "Comment"])
        for i in range(n):
            w.writerow([f"R{i:05d}", "2026-03-01", i % 11, f"The payouts took {i % 7 + 2} days. Invoicing is quick."])
    return path


def test_records_read_back_share_one_set_of_field_names(project, tmp_path):
    [report] = ingest(project, [_responses(tmp_path, 3000)], kind="nps")
    assert report.status == "stored"
    records = list(project.ledger.records())
    assert records[0].__pydantic_fields_set__ is records[1].__pydantic_fields_set__
    assert records[0].model_fields_set == set(Record.model_fields)
    again = Record.model_validate_json(records[0].model_dump_json())
    assert again == records[0] and again.content_hash() == records[0].content_hash()
    rows = [d for (d,) in project.ledger.db.execute("SELECT data FROM records")]
    # a record with its own field set took some 1,600 bytes; sharing it and the empty turns and
    # fields of a survey answer, some 750
    assert records[0].turns is records[1].turns and records[0].fields is records[1].fields
    assert _bytes_each(lambda i: Record.stored(rows[i % len(rows)])) < 1000


def test_a_run_reads_the_chunks_from_the_store_each_time_without_holding_them(project, tmp_path):
    ingest(project, [_responses(tmp_path, 50)], kind="nps")
    corpus = corpus_from(project)
    assert isinstance(corpus.chunks, StoredChunks)
    first, second = list(corpus.chunks), list(corpus.chunks)
    assert first == second and len(first) == 50 and all(isinstance(c, ChunkRef) for c in first)
    assert [c.record_id for c in first] == [r.record_id for r in corpus.records]


def test_one_off_responses_take_no_step_and_a_customers_records_still_do():
    def record(i, respondent=None, date=None):
        return Record(record_id=f"nps:{i}", kind="nps", source="s.csv", respondent=respondent, date=date, text="x")
    records = [record(0), record(1), record(2, "ana", "2026-01-01"), record(3, "ana", "2026-02-01")]
    mentions = [_mention(0), _mention(1), _mention(1).model_copy(update={"touchpoint": "Invoicing"}),
                _mention(2).model_copy(update={"touchpoint": "Invoicing"}), _mention(3)]
    assert [(s.a, s.b, s.customers) for s in steps(records, mentions)] == [("Invoicing", "Payouts", 1)]
