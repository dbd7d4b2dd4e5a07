import json

import openpyxl
import pytest

from valuestory.connectors.detect import detect_kind
from valuestory.connectors.files import SourceFile
from valuestory.connectors.tabular import parse_mapping
from valuestory.errors import InputError

from .conftest import parse

SURVEYMONKEY = """
Respondent ID,Date Created,How likely is it that you would recommend Crewbook to a friend or colleague?,\
Why did you give that score?,Plan
1001,03/14/2026,9,"Quotes in minutes, love it",Solo
1002,03/15/2026,2,"Payouts take a week",Team
1003,03/16/2026,7,,Team
"""


def test_nps_columns_found_by_meaning(write):
    records = parse(write("survey.csv", SURVEYMONKEY), "nps")
    assert [(r.respondent, r.score, r.date, r.segment) for r in records] == [
        ("1001", 9.0, "2026-03-14", "Solo"), ("1002", 2.0, "2026-03-15", "Team"),
        ("1003", 7.0, "2026-03-16", "Team")]
    # no response id column: ids come from the row's content, stable across runs
    assert records[0].record_id.startswith("nps:survey:")
    assert [r.record_id for r in parse(write("survey.csv", SURVEYMONKEY), "nps")] == [r.record_id for r in records]
    assert records[0].text == "Quotes in minutes, love it"
    assert records[2].text == ""  # a score without a comment still counts for NPS
    assert records[0].locator == "line 2"


def test_qualtrics_three_header_rows(write):
    path = write("q.csv", """
        ResponseId,RecordedDate,Q1,Q2
        Response ID,Recorded Date,How likely are you to recommend us?,What is the main reason for your score?
        "{""ImportId"":""_recordId""}","{""ImportId"":""recordedDate""}","{""ImportId"":""QID1""}","{""ImportId"":""QID2_TEXT""}"
        R_1,2026-04-02 10:00:00,10,Great quotes
        """)
    [r] = parse(path, "nps")
    assert (r.record_id, r.score, r.text, r.date, r.locator) == ("nps:R_1", 10.0, "Great quotes", "2026-04-02", "line 4")


def test_xlsx_semicolons_day_first_and_map(tmp_path, write):
    book = openpyxl.Workbook()
    book.active.append(["ID", "Recommend", "Feedback", "Submitted"])
    book.active.append(["a1", 8, "Good app", "2026-07-02"])
    book.save(tmp_path / "s.xlsx")
    [r] = parse(tmp_path / "s.xlsx", "nps")
    assert (r.record_id, r.score, r.text, r.date, r.locator) == ("nps:a1", 8.0, "Good app", "2026-07-02", "row 2 of sheet Sheet")
    path = write("s.csv", "id;Q7;Q8;when\nx;3;Too slow;13/07/2026\ny;9;Fast;01/08/2026\n")
    records = parse(path, "nps", mapping=parse_mapping(["score=Q7", "text=Q8"]))
    assert [(r.score, r.text, r.date) for r in records] == [(3.0, "Too slow", "2026-07-13"), (9.0, "Fast", "2026-08-01")]


@pytest.mark.parametrize("content,line,column,words", [
    ("id,score,comment\n1,9,ok\n2,11,too high\n", 3, "score", "outside 0-10"),
    ("id,score,comment\n1,nine,ok\n", 2, "score", "not a number"),
    ("id,score,comment\n1,9,ok\n1,3,again\n", 3, "id", "duplicate id '1'"),
    ("id,score,comment\n1,9,ok,extra,fields\n", 2, None, "5 fields where the header has 3"),
    ('id,score,comment\n1,9,"unclosed\n', 2, None, "malformed CSV"),
    ("id,score,comment,date\n1,9,ok,yesterday-ish\n", 2, "date", "not a date"),
])
def test_bad_rows_name_file_line_and_column(write, content, line, column, words):
    with pytest.raises(InputError) as e:
        parse(write("bad.csv", content), "nps")
    err = e.value
    assert words in str(err) and err.path == "bad.csv" and err.line == line and err.column == column
    assert err.hint


def test_missing_required_column_lists_the_columns(write):
    with pytest.raises(InputError) as e:
        parse(write("x.csv", "name,comment\nA,hello\n"), "nps")
    assert "no 'score' column" in str(e.value) and "name, comment" in str(e.value) and "--map score=" in str(e.value)


def test_map_errors(write):
    with pytest.raises(InputError, match="no such column"):
        parse(write("x.csv", SURVEYMONKEY), "nps", mapping={"score": "Nope"})
    with pytest.raises(InputError, match="unknown field"):
        parse(write("x.csv", SURVEYMONKEY), "nps", mapping={"colour": "Plan"})
    with pytest.raises(InputError, match="FIELD=COLUMN"):
        parse_mapping(["score"])


def test_support_csv_thread_and_json_export(write):
    path = write("t.csv", """
        Ticket ID,Subject,Description,Status,Priority,Requester,Comments
        7,Payout late,"It has been 5 days, where is my money?",open,urgent,bev@example.com,"Agent: Payouts take 2-5 days.
        Customer: I need it today."
        """)
    [r] = parse(path, "support")
    assert r.record_id == "support:7" and r.fields["status"] == "open" and r.fields["priority"] == "urgent"
    assert [(t.speaker, t.role) for t in r.turns] == [
        ("bev@example.com", "customer"), ("Agent", "company"), ("Customer", "customer")]
    assert r.text.startswith("Subject: Payout late\n\n")
    for t in r.turns:
        assert r.text[t.start:t.end] == t.text
    path = write("z.json", json.dumps({"tickets": [{
        "id": 9, "subject": "Sync", "description": "Duplicates again", "status": "solved",
        "requester": "Dana", "comments": [
            {"author": {"name": "Kevin", "role": "agent"}, "body": "Sorry, fixing."},
            {"author": {"name": "Dana", "role": "end-user"}, "body": "Thanks."}]}]}))
    [r] = parse(path, "support")
    assert [(t.speaker, t.role, t.text) for t in r.turns] == [
        ("Dana", "customer", "Duplicates again"), ("Kevin", "company", "Sorry, fixing."), ("Dana", "customer", "Thanks.")]


def test_sales_outcomes_and_reasons(write):
    path = write("crm.csv", """
        Opportunity ID,Account Name,Stage,Amount,Close Date,Description,Closed Lost Reason
        o1,Greenway,Closed Lost,"$14,400",06/30/2026,Needed job costing.,Missing reporting
        o2,Ruiz,Closed Won,2388,07/01/2026,Loved quotes.,
        o3,Atlas,Negotiation,15600,,Wants a pilot.,
        """)
    records = parse(path, "sales")
    assert [(r.account, r.fields["outcome"]) for r in records] == [("Greenway", "lost"), ("Ruiz", "won"), ("Atlas", "open")]
    assert records[0].fields["amount"] == "14400" and records[0].fields["close_date"] == "2026-06-30"
    assert records[0].text == "Needed job costing.\n\nLost reason: Missing reporting"


def test_feedback_rating_scale_and_title(write):
    path = write("reviews.csv", "review_id,rating,title,review\nr1,5,Great,Quotes in minutes\nr2,1,Awful,Sync broke\n")
    records = parse(path, "feedback")
    assert [(r.score, r.fields["score_scale"]) for r in records] == [(5.0, "1-5"), (1.0, "1-5")]
    assert records[0].text == "Great\n\nQuotes in minutes"


@pytest.mark.parametrize("name,content,kind", [
    ("a.csv", SURVEYMONKEY, "nps"),
    ("b.csv", "id,subject,description,status,priority\n1,x,y,open,high\n", "support"),
    ("c.csv", "Account Name,Stage,Amount,Notes\nA,Closed Won,100,good\n", "sales"),
    ("d.csv", "id,review,rating\n1,Loved it,5\n2,Meh,3\n", "feedback"),
    ("reviews/e.csv", "id,comment,score\n1,Loved it,4\n", "feedback"),  # the folder decides
    ("f.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v A>hi\n", "interview"),
])
def test_kind_detection(write, name, content, kind):
    path = write(name, content)
    assert detect_kind(SourceFile(path, name))[0] == kind


def test_undetectable_and_unsupported(write):
    path = write("x.csv", "a,b\n1,2\n")
    with pytest.raises(InputError, match="--kind"):
        detect_kind(SourceFile(path, "x.csv"))
    path = write("x.pdf", "%PDF-1.4")
    with pytest.raises(InputError, match="unsupported file type"):
        detect_kind(SourceFile(path, "x.pdf"))


def test_one_score_off_the_scale_is_an_error_naming_its_line_not_another_kind(tmp_path):
    """A typo (11) in an NPS export must not turn the file into feedback and drop its scores."""
    from valuestory.ingest.ingest import ingest
    from valuestory.project import Project
    project = Project(tmp_path / "p")
    project.create()
    path = tmp_path / "survey.csv"
    path.write_text("id,How likely are you to recommend us?,comment\n" + "".join(f"{i},{i % 11},fine\n" for i in range(1, 30))
                    + "30,11,too high\n", encoding="utf-8")
    [report] = ingest(project, [path])
    assert report.status == "failed" and report.kind == "nps"
    assert "line 31" in report.message and "outside 0-10" in report.message
    assert list(project.ledger.records()) == []
    path.write_text("id,rating,comment\n" + "".join(f"{i},{20 + i},fine\n" for i in range(1, 30)), encoding="utf-8")
    [other] = ingest(project, [path])  # a column mostly off the scale is no NPS score
    assert other.kind != "nps"


def test_the_files_own_headers_beat_the_folder_name(tmp_path):
    import shutil

    from tests.conftest import ROOT
    from valuestory.connectors.detect import detect_kind
    from valuestory.connectors.files import SourceFile
    nps = tmp_path / "crm-backup" / "export.csv"  # "crm" names the sales kind
    nps.parent.mkdir()
    shutil.copy(ROOT / "data_samples" / "corpus" / "nps" / "crewbook_nps_2026q2_qualtrics.csv", nps)
    assert detect_kind(SourceFile(nps, "crm-backup/export.csv"))[0] == "nps"
    reviews = tmp_path / "survey-exports" / "reviews.csv"  # a near tie: the folder decides
    reviews.parent.mkdir()
    shutil.copy(ROOT / "data_samples" / "corpus" / "feedback" / "app_store_reviews_export.csv", reviews)
    assert detect_kind(SourceFile(reviews, "survey-exports/reviews.csv")) == ("nps", "folder name, headers fit nps")
