import json

import docx
import pytest

from valuestory.errors import InputError

from .conftest import parse


def check_offsets(record):
    for turn in record.turns:
        assert record.text[turn.start:turn.end] == turn.text


def test_plain_text_turns_roles_and_offsets(write):
    path = write("interviews/chat.txt", """
        Sam Lee: How did you first hear about us?
        Maria Gomez: A friend in a trade group told me.
        It took a while to decide though.
        Sam Lee: Why?
        Maria Gomez: Pricing: it was confusing on the website.
        Sam Lee: And what happened next?
        Maria Gomez: I started the trial that evening.
        """)
    [record] = parse(path, "interview")
    assert record.record_id == "interview:chat"
    assert [t.speaker for t in record.turns] == ["Sam Lee", "Maria Gomez"] * 3
    assert {t.speaker: t.role for t in record.turns} == {"Sam Lee": "company", "Maria Gomez": "customer"}
    # a continuation line joins its turn; a one-off "Pricing:" is text, not a new speaker
    assert record.turns[1].text == "A friend in a trade group told me. It took a while to decide though."
    assert record.turns[3].text == "Pricing: it was confusing on the website."
    assert record.respondent == "Maria Gomez"
    check_offsets(record)


def test_markdown_front_matter_gives_metadata(write):
    path = write("i.md", """
        ---
        participant: Ana Ruiz
        segment: Small crew
        company: Ruiz Plumbing
        date: 2026-06-03
        interviewer: Kim Park
        ---
        # Interview

        Kim Park: Tell me about the renewal.
        Ana Ruiz: We renewed because the sync was fixed.
        """)
    [r] = parse(path, "interview")
    assert (r.segment, r.account, r.date, r.respondent) == ("Small crew", "Ruiz Plumbing", "2026-06-03", "Ana Ruiz")
    assert r.turns[0].role == "company" and r.turns[1].role == "customer"
    assert r.text.startswith("Interview\n\nKim Park: ")
    check_offsets(r)


def test_bold_names_and_timestamps(write):
    path = write("i.md", """
        [00:05] **Interviewer:** What changed?
        [01:10] **Femi:** Instant payouts. Money the same evening.
        """)
    [r] = parse(path, "interview")
    assert [(t.speaker, t.time) for t in r.turns] == [("Interviewer", 5.0), ("Femi", 70.0)]
    assert r.turns[1].role == "customer"


def test_otter_style_headers(write):
    path = write("otter.txt", """
        Interviewer  0:03
        How did it start?

        Tony Vega  0:09
        A tiler showed me the quotes on his phone.
        They looked sharp.
        """)
    [r] = parse(path, "interview")
    assert [(t.speaker, t.time) for t in r.turns] == [("Interviewer", 3.0), ("Tony Vega", 9.0)]
    assert r.turns[1].text == "A tiler showed me the quotes on his phone. They looked sharp."


def test_webvtt_voice_tags_merge_cues_and_note_metadata(write):
    path = write("call.vtt", """
        WEBVTT

        NOTE
        segment: Owner-operator

        00:00:01.000 --> 00:00:03.000
        <v Researcher>What made you look for something new?

        00:00:03.500 --> 00:00:06.000
        <v Bev T>Cash flow.

        00:00:06.500 --> 00:00:09.000
        <v Bev T>I waited six weeks to get paid.
        """)
    [r] = parse(path, "interview")
    assert r.segment == "Owner-operator"
    assert [(t.speaker, t.role, t.time) for t in r.turns] == [
        ("Researcher", "company", 1.0), ("Bev T", "customer", 3.5)]
    assert r.turns[1].text == "Cash flow. I waited six weeks to get paid."
    check_offsets(r)


def test_webvtt_name_prefix_continues_over_unlabelled_cues(write):
    path = write("call.vtt", """
        WEBVTT

        00:00:01.000 --> 00:00:03.000
        Interviewer: Why did you renew?

        00:00:03.500 --> 00:00:06.000
        Helen: Our account manager kept her promise.

        00:00:06.500 --> 00:00:09.000
        The permissions feature arrived in September.
        """)
    [r] = parse(path, "interview")
    assert r.turns[1].text == "Our account manager kept her promise. The permissions feature arrived in September."


def test_srt(write):
    path = write("call.srt", """
        1
        00:00:01,000 --> 00:00:02,500
        Interviewer: Did offline mode work?

        2
        00:00:03,000 --> 00:00:05,000
        Rob: No. Notes vanished in basements.
        """)
    [r] = parse(path, "interview")
    assert [(t.speaker, t.role, t.time) for t in r.turns] == [
        ("Interviewer", "company", 1.0), ("Rob", "customer", 3.0)]


def test_json_turn_list_and_recorder_export(write):
    path = write("a.json", json.dumps([
        {"speaker": "Interviewer", "text": "Why did you cancel?", "start": 0},
        {"speaker": "Hugo", "text": "The price went up.", "start": 4.5}]))
    [r] = parse(path, "interview")
    assert [(t.speaker, t.time) for t in r.turns] == [("Interviewer", 0.0), ("Hugo", 4.5)]
    path = write("b.json", json.dumps({
        "metadata": {"date": "2026-09-24", "segment": "Owner-operator"},
        "utterances": [
            {"speaker_name": "Interviewer", "start_time": 0, "words": [{"text": "Why"}, {"text": "?"}]},
            {"speaker_name": "Hugo", "start_time": 2, "words": [{"text": "Too"}, {"text": "expensive"}, {"text": "."}]}]}))
    [r] = parse(path, "interview")
    assert r.date == "2026-09-24" and r.segment == "Owner-operator"
    assert [t.text for t in r.turns] == ["Why?", "Too expensive."]


def test_docx_paragraphs_and_tables(tmp_path):
    d = docx.Document()
    d.add_paragraph("Segment: Multi-crew")
    d.add_paragraph("Interviewer: What triggered the switch?")
    d.add_paragraph("Walt: An insurance audit we nearly failed.")
    d.save(tmp_path / "p.docx")
    [r] = parse(tmp_path / "p.docx", "interview")
    assert r.segment == "Multi-crew"
    assert [t.speaker for t in r.turns] == ["Interviewer", "Walt"]
    d = docx.Document()
    table = d.add_table(rows=0, cols=2)
    for who, said in (("Interviewer", "Why us?"), ("Walt", "The dispatch board."), ("Interviewer", "And?"), ("Walt", "Price.")):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = who, said
    d.save(tmp_path / "t.docx")
    [r] = parse(tmp_path / "t.docx", "interview")
    assert [t.text for t in r.turns] == ["Why us?", "The dispatch board.", "And?", "Price."]


def test_roles_from_questions_and_from_settings(write):
    path = write("x.txt", """
        Alex: What did you buy first?
        Jo: The starter plan, then the team plan.
        Alex: Why the change?
        Jo: We hired two people.
        """)
    [r] = parse(path, "interview")
    assert {t.speaker: t.role for t in r.turns} == {"Alex": "company", "Jo": "customer"}
    [r] = parse(path, "interview", company_speakers=["Jo"])
    assert {t.speaker: t.role for t in r.turns} == {"Alex": "customer", "Jo": "company"}


@pytest.mark.parametrize("name,content,message", [
    ("notes.txt", "Just some notes without any speakers at all.\nAnother line.", "no speaker turns"),
    ("bad.json", '{"turns": [', "not valid JSON"),
    ("bad.vtt", "this is not a caption file", "not a valid VTT"),
    ("fm.md", "---\nsegment: [unclosed\n---\nA: hi\nB: yo\n", "front matter"),
])
def test_bad_transcripts_name_the_file_and_say_what_to_do(write, name, content, message):
    path = write(name, content)
    with pytest.raises(InputError) as e:
        parse(path, "interview")
    assert message in str(e.value) and name in str(e.value) and e.value.hint
