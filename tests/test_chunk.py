from valuestory.ingest.chunk import chunk_record
from valuestory.records import Record, Turn, assemble_turns

LONG = " ".join(f"Sentence number {i} says the sync duplicated invoices again." for i in range(80))


def interview() -> Record:
    turns = [Turn(speaker="Interviewer", role="company", text="What happened with the sync?"),
             Turn(speaker="Dana", role="customer", text="It duplicated fourteen invoices."),
             Turn(speaker="Interviewer", role="company", text="And then?"),
             Turn(speaker="Dana", role="customer", text=LONG),
             Turn(speaker="Interviewer", role="company", text="Thanks.")]
    text, turns = assemble_turns(turns, "Interview title")
    return Record(record_id="interview:d", kind="interview", source="d.txt", text=text, turns=turns)


def test_chunks_are_exact_spans_under_the_token_limit():
    record = interview()
    chunks = chunk_record(record, max_tokens=60)
    assert len(chunks) > 5
    for c in chunks:
        assert record.text[c.start:c.end] == c.text
        assert c.tokens <= 60
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_short_turns_pack_together_and_turn_boundaries_hold():
    record = interview()
    chunks = chunk_record(record, max_tokens=60)
    first = chunks[0].text
    assert first.startswith("Interview title") and "Dana: It duplicated fourteen invoices." in first
    starts = {record.text.rfind("\n", 0, t.start) + 1 for t in record.turns}
    long_turn = record.turns[3]
    for c in chunks:
        # a chunk starts at a turn's label, or inside the one turn too long to keep whole
        assert c.start in starts or c.start == 0 or long_turn.start <= c.start < long_turn.end
    assert any(c.text.endswith("again.") and c.start > long_turn.start for c in chunks)


def test_records_without_turns_and_empty_records():
    r = Record(record_id="nps:1", kind="nps", source="s", text="Great quotes.\nSlow payouts.")
    [c] = chunk_record(r)
    assert c.text == r.text
    assert chunk_record(Record(record_id="nps:2", kind="nps", source="s", text="")) == []


def test_chunk_ids_are_stable_and_follow_content():
    a = chunk_record(interview(), 60)
    assert [c.chunk_id for c in a] == [c.chunk_id for c in chunk_record(interview(), 60)]
    changed = interview()
    changed = changed.model_copy(update={"text": changed.text.replace("fourteen", "eighteen")})
    assert a[0].chunk_id != chunk_record(changed, 60)[0].chunk_id
    assert a[-1].chunk_id == chunk_record(changed, 60)[-1].chunk_id


def test_a_single_giant_word_run_is_cut_at_spaces():
    r = Record(record_id="f:1", kind="feedback", source="s", text="word " * 1000)
    chunks = chunk_record(r, 50)
    assert all(c.tokens <= 50 for c in chunks) and all(r.text[c.start:c.end] == c.text for c in chunks)
