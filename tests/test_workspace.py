"""The researcher's workspace (`valuestory workspace`): its pages read the project as the CLI
does, its recoding is the CLI's store, bad input changes nothing; and, in Chromium against
the real server, a researcher clicks through every page."""

from __future__ import annotations

import csv
import io
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from valuestory.compare import changes_of
from valuestory.ingest.ingest import ingest
from valuestory.pipeline.run import run
from valuestory.project import Project
from valuestory.render.exports import rows as export_rows
from valuestory.stores.recodes import RecodeStore
from valuestory.stores.runs import RunStore
from valuestory.workspace.web import Workspace

from .conftest import CORPUS
from .servers import assert_not_served, free_port, headless_chromium, running
from .test_cli import run as cli

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ["VALUESTORY_SHOTS"]) / "workspace" if os.environ.get("VALUESTORY_SHOTS") else None
SURVEY = """id,date,segment,score,comment
1,2026-02-03,Retail,9,Support answered within minutes and fixed my login.
2,2026-02-10,Retail,3,The invoice was wrong twice and support never called back.
3,2026-02-20,Wholesale,2,Delivery took three weeks. The driver never rang the bell.
4,2026-03-01,Wholesale,8,"The app is quick, checkout is easy."
5,2026-04-05,Retail,4,"Checkout failed twice <script>alert(1)</script> and the refund took ages."
6,2026-04-12,Wholesale,10,Delivery was on time and the driver was friendly.
7,2026-05-02,Retail,6,The invoice is fine now but the app logs me out every day.
8,2026-05-20,Wholesale,1,Support kept me waiting an hour on the phone.
9,2026-06-01,Retail,9,Love the app. Checkout in seconds.
10,2026-06-15,Wholesale,5,Delivery slots are always full.
"""


@pytest.fixture
def survey(tmp_path) -> Project:
    (tmp_path / "survey.csv").write_text(SURVEY, encoding="utf-8")
    project = Project(tmp_path / "study")
    project.create()
    ingest(project, [tmp_path / "survey.csv"])
    run(project, "offline")
    yield project
    project.ledger.close()


@pytest.fixture
def client(survey):
    space = Workspace(survey.root)
    with TestClient(space.app) as c:
        c.workspace = space
        yield c


def _token(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def _apply(client, token: str, back: str):
    """Apply, then follow the page that waits for the run until it sends you back."""
    page = client.post("/apply", data={"token": token, "back": back})
    deadline = time.time() + 120
    while 'http-equiv="refresh"' in page.text:
        assert "Applying your decisions" in page.text and time.time() < deadline
        time.sleep(0.2)
        page = client.get("/applying")
    return page


def _mention(survey: Project, touchpoint: str):
    return next(m for m in RunStore(survey.ledger).latest().coding.mentions if m.touchpoint == touchpoint)


def test_the_map_and_scorecard_are_the_runs_and_a_slice_recomputes_them(client, survey):
    page = client.get("/map").text
    reader = RunStore(survey.ledger).latest()
    assert "Value story map" in page and reader.run_id in page and "10 records" in page
    for name in reader.info.summary.fix_first:
        assert f'href="/touchpoint?name={name.replace(" ", "+")}"' in page
    card = client.get("/scorecard").text
    shown = re.findall(r'<a href="/touchpoint\?name=([^"]+)">', card)
    assert len(shown) == len({s.touchpoint for s in reader.scores.scores if s.scope == "overall"})
    retail = client.get("/scorecard?segment=Retail").text
    assert "5 records" in retail and 'href="/touchpoint?segment=Retail&amp;name=' in retail  # the slice is carried on
    assert "persona Wholesale</strong>, 5 records" in client.get("/scorecard?persona=Wholesale").text
    spring = client.get("/scorecard", params={"since": "2026-04-01", "until": "2026-05-31"}).text
    assert "since 2026-04-01, until 2026-05-31</strong>, 4 records" in spring  # records 5, 6, 7, 8
    assert "kind nps</strong>: 10 records" in client.get("/map?kind=nps").text
    exported = list(csv.DictReader(io.StringIO(client.get("/export/scorecard.csv").text)))
    assert [r["touchpoint"] for r in exported] == [r["touchpoint"] for r in export_rows(reader, "scores", csv=True)]


def test_a_touchpoint_shows_each_quote_in_its_record_with_who_speaks_when_and_how_sure(client, survey):
    m = _mention(survey, "Delivery and shipping")
    page = client.get("/touchpoint", params={"name": "Delivery and shipping"}).text
    assert f"<mark>{m.quote}</mark>" in page
    assert "customer" in page and "2026-02-20" in page and f"confidence {m.confidence:.2f}" in page
    assert "answering" not in page  # the CSV's comment column asked no question
    record = client.get("/record", params={"id": m.record_id, "start": m.start, "end": m.end}).text
    assert f'<mark class="coded here">{m.quote}</mark>' in record
    mentions_csv = list(csv.DictReader(io.StringIO(
        client.get("/export/mentions.csv", params={"touchpoint": "Delivery and shipping"}).text)))
    assert {r["touchpoint"] for r in mentions_csv} == {"Delivery and shipping"} and len(mentions_csv) == 3


def test_customer_text_is_escaped_on_every_page(client):
    pages = [client.get(p).text for p in ("/map", "/scorecard", "/review", "/search?q=checkout+failed",
                                           "/record?id=nps:5")]
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in p for p in pages)
    assert not any("<script" in p for p in pages)
    headers = client.get("/map").headers
    assert "default-src 'none'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"


def test_recoding_in_place_is_the_clis_decision_and_apply_runs_it(client, survey):
    before = RunStore(survey.ledger).latest()
    m = _mention(survey, "Delivery and shipping")
    page = client.get("/touchpoint", params={"name": "Delivery and shipping"}).text
    done = client.post("/code", data={"token": _token(page), "action": "reject", "touchpoint": m.touchpoint,
                                      "record_id": m.record_id, "start": m.start,
                                      "back": "/touchpoint?name=Delivery+and+shipping"})
    assert done.status_code == 200 and "Kept: 1. reject Delivery and shipping in" in done.text
    assert "1 decision (" in done.text and "Apply: run again" in done.text  # not in the run shown yet
    (decision,) = RecodeStore(survey.ledger).active()
    assert decision.action == "reject" and decision.texts == [m.quote] and decision.record_id == m.record_id
    applied = _apply(client, _token(done.text), "/touchpoint?name=Delivery+and+shipping")
    after = RunStore(survey.ledger).latest()
    assert after.run_id != before.run_id and f"Run {after.run_id} made in" in applied.text
    assert f"<mark>{m.quote}</mark>" not in applied.text and "Apply: run again" not in applied.text
    # the CLI sees the same decision
    listed = cli("code", "list", "-p", str(survey.root), cwd=survey.root, env={"COLUMNS": "200"}).stdout
    assert "reject Delivery and shipping" in listed and "in force" in listed
    # rename and split, then undo the rename
    token = _token(applied.text)
    client.post("/code", data={"token": token, "action": "rename", "touchpoint": "Mobile app", "into": "App",
                               "back": "/decisions"})
    client.post("/code", data={"token": token, "action": "split", "touchpoint": "Payments and checkout",
                               "words": "checkout, till", "into": "Checkout", "back": "/decisions"})
    client.post("/code", data={"token": token, "action": "merge", "touchpoint": "Invoices and billing",
                               "with": "Payouts and refunds", "into": "Money", "back": "/decisions"})
    _apply(client, token, "/decisions")
    coded = {t.touchpoint for t in RunStore(survey.ledger).latest().coding.mentions}
    assert "App" in coded and "Mobile app" not in coded and "Checkout" in coded
    assert "Money" in coded and not coded & {"Invoices and billing", "Payouts and refunds"}
    undone = client.post("/undo", data={"token": token, "number": "2", "back": "/decisions"})
    assert "Undone: 2. rename Mobile app to App" in undone.text and "undone" in undone.text
    _apply(client, token, "/decisions")
    coded = {t.touchpoint for t in RunStore(survey.ledger).latest().coding.mentions}
    assert "Mobile app" in coded and "App" not in coded


def test_review_verdicts_are_kept_as_decisions(client, survey):
    page = client.get("/review").text
    queue = RunStore(survey.ledger).latest().coding.mentions
    ordered = sorted(queue, key=lambda m: (m.confidence, m.record_id, m.start))
    assert re.findall(r"<mark>(.*?)</mark>", page) == [escape(m.quote) for m in ordered][:20]
    least = ordered[0]
    token = _token(page)
    base = {"token": token, "touchpoint": least.touchpoint, "record_id": least.record_id, "start": least.start,
            "back": "/review"}
    client.post("/verdict", data={**base, "answer": "p -"})
    other = next(m for m in queue if m.record_id != least.record_id)
    client.post("/verdict", data={**base, "touchpoint": other.touchpoint, "record_id": other.record_id,
                                  "start": other.start, "answer": "r", "into": "Customer support"})
    kept = RecodeStore(survey.ledger).active()
    assert [(r.action, r.polarity, r.into) for r in kept] == [("polarity", "negative", ""),
                                                             ("reassign", None, "Customer support")]
    marked = re.findall(r"<mark>(.*?)</mark>", client.get("/review").text)
    assert escape(least.quote) not in marked and escape(other.quote) not in marked  # judged: off the queue
    queue_csv = list(csv.DictReader(io.StringIO(client.get("/export/review.csv").text)))
    assert [str(escape(r["quote"])) for r in queue_csv] == marked  # the page's queue, in its words
    listed = list(csv.DictReader(io.StringIO(client.get("/export/decisions.csv").text)))
    assert [(r["number"], r["action"], r["status"]) for r in listed] == [("1", "polarity", "in force"),
                                                                         ("2", "reassign", "in force")]


def test_bad_input_gets_a_clear_message_and_changes_nothing(client, survey):
    runs = len(RunStore(survey.ledger).all())
    m = _mention(survey, "Customer support")
    forged = client.post("/code", data={"action": "reject", "touchpoint": m.touchpoint, "record_id": m.record_id,
                                        "start": m.start, "token": "not-the-token"})
    assert forged.status_code == 403 and "cross-site" in forged.text
    assert client.post("/apply", data={}).status_code == 403
    cases = {"/map?run=run-nope": (404, "no finished run 'run-nope'"),
             "/map?segment=Enterprise": (400, "no record is in the slice (segment Enterprise). The data holds segments: "
                                               "Retail, Wholesale"),
             "/scorecard?since=2026-13-45": (400, "neither a date nor a period"),
             "/search?q=" + "refund " * 200: (400, "at most 500 characters"),
             "/touchpoint?name=Nothing": (400, "no touchpoint 'Nothing'"),
             "/record?id=nps:999": (400, "no record 'nps:999'"),
             "/export/secrets.txt": (400, "no export 'secrets.txt'"),
             "/compare?a=" + RunStore(survey.ledger).latest().run_id: (400, "choose two runs"),
             "/compare?period=2026Q1": (400, "say what to compare")}
    for url, (status, message) in cases.items():
        got = client.get(url)
        assert got.status_code == status and message in got.text.replace("&#39;", "'"), url
        assert "Nothing was changed" in got.text
    token = _token(client.get("/touchpoint?name=Customer+support").text)
    bad_posts = [{"action": "reassign", "touchpoint": m.touchpoint, "record_id": m.record_id, "start": m.start, "into": " "},
                 {"action": "reject", "touchpoint": m.touchpoint, "record_id": m.record_id, "start": "12345"},
                 {"action": "merge", "touchpoint": m.touchpoint},
                 {"action": "drop table", "touchpoint": m.touchpoint}]
    for data in bad_posts:
        assert client.post("/code", data={**data, "token": token}).status_code == 400, data
    sent = client.post("/code", data={"token": token, "action": "rename", "touchpoint": "Customer support",
                                      "into": "Support", "back": "https://evil.example/"}, follow_redirects=False)
    assert sent.headers["location"] == "/"  # never to another site
    RecodeStore(survey.ledger).undo()  # that last one was a good decision, sent back home
    assert RecodeStore(survey.ledger).active() == [] and len(RunStore(survey.ledger).all()) == runs


def test_compare_gives_the_diffs_intervals_and_quotes(client, survey):
    token = _token(client.get("/touchpoint?name=Customer+support").text)
    m = _mention(survey, "Delivery and shipping")
    client.post("/code", data={"token": token, "action": "reject", "touchpoint": m.touchpoint,
                               "record_id": m.record_id, "start": m.start, "back": "/map"})
    _apply(client, token, "/map")
    a, b = (i.run_id for i in reversed(RunStore(survey.ledger).all()))
    page = client.get("/compare", params={"a": a, "b": b}).text
    changes = changes_of(survey, [a, b], None, None, None, None)
    for t in changes.touchpoints:
        assert f">{t.touchpoint}</a>" in page
    periods = client.get("/compare", params={"period": "2026Q1", "vs": "2026Q2"}).text
    assert "2026Q1 (4 records) → 2026Q2 (6 records)" in periods
    rows = list(csv.DictReader(io.StringIO(client.get("/export/compare.csv", params={"period": "2026Q1",
                                                                                      "vs": "2026Q2"}).text)))
    expected = changes_of(survey, [], "2026Q1", "2026Q2", None, None)
    assert [(r["touchpoint"], float(r["low"] or "nan") if r["low"] else None) for r in rows] == \
        [(t.touchpoint, t.difference.low) for t in expected.touchpoints]


def test_search_cites_the_record_of_each_hit(client):
    page = client.get("/search", params={"q": "waiting on the phone for support"}).text
    hits = re.findall(r'href="/record\?id=([^&"]+)&amp;start=(\d+)&amp;end=(\d+)"', page)
    assert hits and unquote(hits[0][0]) == "nps:8"
    cited = client.get(f"/record?id={hits[0][0]}&start={hits[0][1]}&end={hits[0][2]}").text
    assert "Support kept me waiting an hour on the phone." in cited
    exported = list(csv.DictReader(io.StringIO(client.get("/export/search.csv",
                                                          params={"q": "waiting on the phone for support"}).text)))
    assert exported[0]["record_id"] == "nps:8"


def test_the_workspace_needs_a_run_first(tmp_path):
    cli("init", "empty", cwd=tmp_path)
    done = cli("workspace", "-p", "empty", "--no-browser", cwd=tmp_path, check=2)
    assert "no run yet" in done.stderr and "valuestory run" in done.stderr


@pytest.mark.integration
def test_the_workspace_is_clicked_through_in_chromium_against_the_real_server(tmp_path):
    project = Project(tmp_path / "study")
    project.create()
    ingest(project, [CORPUS])
    run(project, "offline")
    project.ledger.close()
    shots = SHOTS or tmp_path / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    exe = Path(sys.executable).with_name("valuestory")
    started = time.perf_counter()
    with running([str(exe), "workspace", "-p", str(project.root), "--port", str(port), "--no-browser"], f"{url}/map",
                 tmp_path / "server.log"):
        print(f"first page {time.perf_counter() - started:.2f} s after `valuestory workspace`")
        assert_not_served(url, ("/../../etc/passwd", "/static/../valuestory.toml", "/.valuestory/ledger.sqlite"))
        with headless_chromium() as browser:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/")
            assert page.url.endswith("/map") and page.locator(".phase").count() >= 4
            page.click("nav >> text=Scorecard")
            first = page.locator("tbody tr").first.locator("a").inner_text()
            page.locator("tbody tr").first.locator("a").click()
            assert page.locator("h1").inner_text() == first
            total = int(re.match(r"(\d+) mention", page.inner_text(".lead")).group(1))
            quote = page.locator(".mention mark").first.inner_text()
            page.locator(".mention").first.locator("button:has-text('Not about it')").click()
            assert "Kept: 1. reject" in page.inner_text(".ok") and page.locator(".pending").is_visible()
            page.click("button:has-text('Apply: run again')")
            _shoot_if_waiting(page, shots / "applying-1400.png")
            assert "every decision is applied" in page.inner_text(".ok")
            assert int(re.match(r"(\d+) mention", page.inner_text(".lead")).group(1)) == total - 1
            assert quote not in [t for t in page.locator(".mention mark").all_inner_texts()][:1]
            page.click("nav >> text=Decisions")
            assert "in force" in page.inner_text("tbody")
            page.click("button:has-text('Undo')")
            assert "Undone: 1." in page.inner_text(".ok")
            page.set_viewport_size({"width": 390, "height": 900})
            page.click("button:has-text('Apply: run again')")
            _shoot_if_waiting(page, shots / "applying-390.png")
            page.set_viewport_size({"width": 1400, "height": 900})
            page.click("nav >> text=Review")
            page.locator(".mention").first.locator("button:has-text('Right')").click()
            assert "Kept: 2. confirm" in page.inner_text(".ok")
            # a slice, carried from page to page
            page.click("nav >> text=Value story map")
            page.select_option("select[name=kind]", "nps")
            page.click("button:has-text('Show')")
            assert "kind nps" in page.inner_text(".lead")
            page.click("nav >> text=Scorecard")
            assert "kind=nps" in page.url
            page.click("nav >> text=Compare")
            page.click("button:has-text('Compare runs')")
            assert page.locator("table tbody tr").count() > 10
            page.click("nav >> text=Search")
            page.fill("input[name=q]", "waiting days for my money")
            page.click("button:has-text('Search')")
            page.locator(".card a").first.click()
            assert page.locator("mark.here").count() >= 1
            with page.expect_download() as download:
                page.goto(f"{url}/scorecard")
                page.click("text=this scorecard (CSV)")
            assert download.value.suggested_filename == "scorecard.csv"
            assert errors == []
            # every page at 1400 and 390 px
            pages = {"map": "/map", "scorecard": "/scorecard", "touchpoint": f"/touchpoint?name={first}",
                     "record": "/record?id=nps:3-70533", "review": "/review", "decisions": "/decisions",
                     "compare": "/compare?period=2026Q2&vs=2026Q3", "search": "/search?q=slow+payouts",
                     "error": "/map?segment=Enterprise"}
            for width in (1400, 390):
                page.set_viewport_size({"width": width, "height": 900})
                for name, path in pages.items():
                    page.goto(url + path)
                    page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=width == 1400)
                    scroll = page.evaluate("document.documentElement.scrollWidth")
                    assert scroll <= width + 1, f"{name} is {scroll} px wide at {width}"
    assert all((shots / f"{n}-{w}.png").stat().st_size > 5_000 for n in pages for w in (1400, 390))


def _shoot_if_waiting(page, path: Path) -> None:
    """The page that waits for a run shows only while it runs (a second or two here): kept
    when caught."""
    if page.locator("text=Applying your decisions").count():
        page.screenshot(path=str(path))


def test_apply_runs_in_a_thread_that_reports_each_stage_and_its_failure(survey, tmp_path):
    from valuestory.pipeline import METHOD
    from valuestory.workspace.job import RunJob
    seen = []
    job = RunJob(survey.root, "offline", None, "/map")
    job._progress = lambda label, done, total: seen.append(label)  # what the waiting page reads
    job.start()
    deadline = time.time() + 120
    while job.running and time.time() < deadline:
        time.sleep(0.05)
    assert not job.error and job.run_id == RunStore(survey.ledger).latest().run_id
    assert [label.split(" ")[0] for label in dict.fromkeys(seen)] == [f"{i}/{len(METHOD)}" for i in
                                                                      range(1, len(METHOD) + 1)]
    empty = Project(tmp_path / "empty")
    empty.create()
    failed = RunJob(empty.root, "offline", None, "/map").start()
    while failed.running:
        time.sleep(0.05)
    assert "nothing to run" in failed.error and failed.run_id == ""


def test_the_page_that_waits_for_a_run_shows_its_stage_and_reloads_itself(client, survey):
    from valuestory.workspace.job import RunJob
    assert client.get("/applying").url.path == "/decisions"  # nothing to wait for
    client.workspace.job = RunJob(survey.root, "offline", None, "/scorecard", label="6/10 journey", done=0, total=1)
    waiting = client.get("/applying").text
    assert '<meta http-equiv="refresh" content="1">' in waiting and "6/10 journey" in waiting
    assert "Apply: run again" not in waiting  # no second run offered while one goes
    client.workspace.job.seconds, client.workspace.job.error = 0.5, "the run failed: OSError: disk full"
    failed = client.get("/applying")
    assert failed.status_code == 400 and "did not finish: the run failed: OSError: disk full" in failed.text


def test_a_reps_note_quoted_on_the_map_is_labelled_as_one(tmp_path):
    (tmp_path / "deals.csv").write_text(
        "Opportunity ID,Account,Stage,Outcome,Close Date,Notes\n"
        "OPP-1,Acme,Closed Won,won,2026-03-02,Signed after the demo. Liked the invoicing.\n"
        "OPP-2,Brix,Closed Lost,lost,2026-03-09,Lost reason: pricing too high vs competitor.\n", encoding="utf-8")
    project = Project(tmp_path / "deals")
    project.create()
    ingest(project, [tmp_path / "deals.csv"], kind="sales")
    run(project, "offline")
    with TestClient(Workspace(project.root).app) as c:
        page = c.get("/map").text
    project.ledger.close()
    quoted = re.findall(r"\((sales:[^)]*)\)</span>", page)
    assert quoted and all(q.endswith(", a rep's note about the customer") for q in quoted)
