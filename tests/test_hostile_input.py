"""Each crash site and silent loss the probe found, as a case: a clear error naming the file
(or the text read right), the batch going on, and nothing stored before changed."""

from __future__ import annotations

import codecs
import io
import json
import time

import pytest

from valuestory.connectors.support import thread_turns
from valuestory.connectors.tabular import to_iso_date
from valuestory.ingest.ingest import ingest

from .conftest import parse
from .test_store import index_matches_ledger

ALIAS_BOMB = "---\na: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{','.join('*' + p for _ in range(9))}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
) + "---\nDana: hello\nSam: how was it?\n"

REFUSED = {
    "start-dotted.json": (json.dumps([{"speaker": "A", "text": "hi", "start": "1.2.3"}]), None),
    "deep.json": ("[" * 1000 + "]" * 1000, "nests deeper than 64 levels"),
    "deep-object.json": ('{"turns":' * 3000 + "[]" + "}" * 3000, "nests deeper"),
    "odd.txt": (codecs.BOM_UTF16_LE + "Dana: hi there\n".encode("utf-16-le") + b"\x00", "says it is UTF-16"),
    "bomb.md": (ALIAS_BOMB, "aliases"),
    "feb30.md": ("---\ndate: 2026-02-30\n---\nDana: hi\nSam: how?\n", "'2026-02-30' is not a date"),
    "monday.md": ("---\ndate: Mon\n---\nDana: hi\nSam: how?\n", "'Mon' is not a date"),
    "broken.xlsx": (None, "cannot open as an Excel workbook"),
    "rows.xlsx": (None, "the workbook opens but its rows cannot be read"),
}


def _xlsx_with_broken_rows() -> bytes:
    """A workbook that opens (read-only mode reads rows lazily) but whose sheet is not XML."""
    import zipfile
    src = zipfile.ZipFile(io.BytesIO(_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b'<sheetData><row r="1"><c r="A1"><v>not<a number</v></c></row>')
            z.writestr(item, data)
    return out.getvalue()


def _xlsx() -> bytes:
    import openpyxl
    book = openpyxl.Workbook()
    book.active.append(["score", "comment"])
    book.active.append([9, "fine"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _damaged_xlsx() -> bytes:
    data = bytearray(_xlsx())
    at = data.find(b"<sheetData>")  # the sheet's rows, inside the zip: flip bytes there
    data[at - 40:at + 40] = bytes(80)
    return bytes(data)


def test_each_hostile_file_is_refused_by_name_and_the_batch_goes_on(project, write):
    good = write("in/good.csv", "id,score,comment\n1,9,Great support\n2,3,Slow refund\n")
    ingest(project, [good])
    before = project.ledger.record_count()
    for name, (content, _) in REFUSED.items():
        damaged = {"broken.xlsx": _damaged_xlsx, "rows.xlsx": _xlsx_with_broken_rows}
        write(f"in/{name}", content if content is not None else damaged[name]())
    write("in/zz-after.csv", "id,score,comment\n3,7,Fine\n")  # after the hostile files, still read
    started = time.monotonic()
    reports = {r.path.split("/")[-1]: r for r in ingest(project, [good.parent])}
    assert time.monotonic() - started < 30  # the alias bomb took 31 s on its own before
    for name, (_, message) in REFUSED.items():
        r = reports[name]
        if message is None:  # read, with its odd field ignored rather than crashing
            assert r.status == "stored", r.message
            continue
        assert r.status == "failed" and name in r.message and message in r.message, r.message
        assert "fault in valuestory" not in r.message
    assert reports["zz-after.csv"].status == "stored" and reports["good.csv"].status == "unchanged"
    assert project.ledger.record_count() == before + 1 + 1  # zz-after, and the start string file
    index_matches_ledger(project)


def test_a_json_start_that_is_no_time_is_ignored_and_a_time_is_read(write):
    path = write("t.json", json.dumps([{"speaker": "A", "text": "hi?", "start": "1.2.3"},
                                       {"speaker": "B", "text": "yes", "start": "00:12.5"},
                                       {"speaker": "A", "text": "ok", "start": "12:"},
                                       {"speaker": "B", "text": ["w", 3, None, {"word": "x"}]}]))
    turns = parse(path, "interview")[0].turns
    assert [t.time for t in turns] == [None, 12.5, None, None]
    assert turns[-1].text == "w 3 x"


def test_a_lone_surrogate_escape_becomes_a_replacement_character(write):
    path = write("s.json", b'[{"speaker": "A", "text": "broken \\ud800 emoji"}, {"speaker": "B", "text": "ok"}]')
    record = parse(path, "interview")[0]
    assert "broken \ufffd emoji" in record.text
    record.model_dump_json().encode("utf-8")


@pytest.mark.parametrize("encode", [
    lambda t: codecs.BOM_UTF32_LE + t.encode("utf-32-le"),
    lambda t: codecs.BOM_UTF32_BE + t.encode("utf-32-be"),
    lambda t: t.encode("utf-32-le"),
    lambda t: t.encode("utf-16-le"),
    lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
])
def test_utf32_and_utf16_with_or_without_bom_are_read(write, encode):
    text = "Dana: The refund took ages, señor.\nSam: Why?\nDana: Nobody answered.\nSam: I see.\n"
    record = parse(write("t.txt", encode(text)), "interview")[0]
    assert "\x00" not in record.text and "señor" in record.text
    assert [t.speaker for t in record.turns] == ["Dana", "Sam", "Dana", "Sam"]


@pytest.mark.parametrize("value", ["-1", "Mon", "3pm", "12", "2026", "Mar 2026", "2026-02-30"])
def test_values_that_are_not_whole_dates_are_not_dates(value):
    with pytest.raises(ValueError):
        to_iso_date(value)


@pytest.mark.parametrize("value,iso", [("2026-03-14", "2026-03-14"), ("March 3, 2026", "2026-03-03"),
                                       ("Tue, 3 Mar 2026 10:00", "2026-03-03"), ("20260314", "2026-03-14")])
def test_dates_written_in_full_are_read(value, iso):
    assert to_iso_date(value) == iso


def test_a_date_column_holding_a_weekday_is_an_error_naming_the_line(write):
    from valuestory.errors import InputError
    path = write("f.csv", "date,score,comment\n2026-03-01,9,ok\nMon,7,fine\n")
    with pytest.raises(InputError, match="'Mon' is not a date") as info:
        parse(path, "nps")
    assert info.value.line == 3


def test_a_semicolon_csv_after_blank_lines_is_read(write):
    path = write("n.csv", "\n\n\nid;score;comment\n1;9;Quick and friendly\n2;4;Slow, and rude\n")
    records = parse(path, "nps")
    assert [(r.score, r.text) for r in records] == [(9, "Quick and friendly"), (4, "Slow, and rude")]


def test_a_support_thread_keeps_every_comment_one_turn_each_with_staff_recognised():
    thread = ("I tried again this morning.\n"
              "Agent (Relations): We escalated it to billing.\n"
              "Dana: Still broken.\nDana: And now the invoice is wrong.\n"
              "Agent (Imogen): Refund issued,\nsorry for the wait.")
    turns = thread_turns(thread, "Dana")
    assert [(t.speaker, t.role) for t in turns] == [
        ("Reply", "unknown"), ("Agent (Relations)", "company"), ("Dana", "customer"),
        ("Dana", "customer"), ("Agent (Imogen)", "company")]
    assert " ".join(t.text for t in turns).split() == thread.replace("Agent (Relations):", "").replace(
        "Agent (Imogen):", "").replace("Dana:", "").split()  # every word kept, in order
    assert turns[-1].text == "Refund issued, sorry for the wait."


def test_a_staff_member_named_in_a_label_is_pseudonymised(project, write):
    path = write("tickets.csv", "Ticket ID,Subject,Description,Requester,Comments\n"
                 'T1,Refund,Where is my refund?,Dana Whitfield,"Agent (Imogen): Imogen here, refund sent.\n'
                 'Dana Whitfield: Thanks Imogen"\n')
    ingest(project, [path])
    record = next(project.ledger.records())
    assert "Imogen" not in record.text and "Whitfield" not in record.text
    staff = [t for t in record.turns if t.role == "company"]
    assert staff and staff[0].speaker.startswith("Agent (Staff-")


def test_ingest_repairs_vectors_the_index_cannot_read_back(project, write):
    path = write("f.csv", "id,text\n" + "".join(f"{i},Parcel {i} arrived damaged\n" for i in range(40)))
    ingest(project, [path])
    ids = sorted(project.vectors.ids())
    project.vectors.collection.delete(ids=ids[::3])  # lost behind the ledger's back
    project.vectors.collection.upsert(ids=["stray"], embeddings=[[0.1] * project.vectors.embedder.dim],
                                      metadatas=[{"record_id": "none", "kind": "feedback"}])
    reports = ingest(project, [path])
    repaired = [r for r in reports if r.status == "repaired"]
    assert repaired and f"re-embedded {len(ids[::3])} " in repaired[0].message and "deleted 1 " in repaired[0].message
    index_matches_ledger(project)
    assert [r.status for r in ingest(project, [path])] == ["unchanged"]  # nothing left to repair


def test_a_file_stored_under_its_clear_path_by_an_older_build_is_replaced_not_doubled(project, write):
    """Before ids and paths were redacted, a file was stored under the path as named; its next
    ingest stores it redacted and leaves no copy under the old path."""
    path = write("in/nps-jo.smith@example.co.uk.csv", "id,score,comment\njo.smith@example.co.uk,9,Great\n2,4,Slow\n")
    ingest(project, [path])
    ledger = project.ledger
    [row] = ledger.sources()
    assert "jo.smith" not in row.path and "jo.smith" not in "".join(r.record_id for r in ledger.records())
    with ledger.transaction():  # what an older build left: clear path and ids, no origin
        ledger.db.execute("PRAGMA defer_foreign_keys = ON")
        ledger.db.execute("UPDATE sources SET path = ?, origin = NULL, sha256 = 'old' WHERE path = ?",
                          (project.relative(path), row.path))
        ledger.db.execute("UPDATE records SET source = ? WHERE source = ?", (project.relative(path), row.path))
    [report] = ingest(project, [path])
    assert report.status == "stored" and [s.path for s in ledger.sources()] == [row.path]
    assert ledger.record_count() == 2
    index_matches_ledger(project)
