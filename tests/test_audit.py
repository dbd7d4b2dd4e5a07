"""The guided touchpoint audit: the findings from a bakery's reviews, the web page against the
real server clicked through in Debian's Chromium, its security, bad uploads, the saved
project, and the non-interactive CLI giving what the page gives."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from valuestory.audit.businesses import TYPES
from valuestory.audit.session import Audit
from valuestory.stores.audits import AUDIT_FILE

from .servers import assert_not_served, free_port, headless_chromium, running

ROOT = Path(__file__).resolve().parent.parent
BAKERY = ROOT / "data_samples" / "audit" / "bakery_reviews.csv"
SALON = ROOT / "data_samples" / "audit" / "salon_survey.csv"
SHOTS = Path(os.environ.get("VALUESTORY_SHOTS", "")) if os.environ.get("VALUESTORY_SHOTS") else None


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("valuestory")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd)


def test_every_business_type_has_touchpoints_with_channel_owner_and_effort():
    assert {"cafe_bakery", "restaurant", "salon", "trades", "clinic", "local_shop", "online_shop", "b2b_services",
            "software", "other"} <= set(TYPES)
    for t in TYPES.values():
        assert len(t.touchpoints) >= 6 and len({x.name for x in t.touchpoints}) == len(t.touchpoints)
        assert all(x.channel and x.owner and x.effort in ("low", "medium", "high") and x.examples for x in t.touchpoints)


def test_a_bakery_audit_finds_three_to_fix_with_five_ideas_in_the_customers_words(tmp_path):
    audit = Audit(tmp_path / "bakery")
    audit.choose("cafe_bakery")
    keep = {t.name for t in audit.state.touchpoints} - {"Seating and cleanliness"}
    audit.edit(keep, renames={"Custom and phone orders": "Cake orders"}, added=["Loyalty card"])
    [report] = audit.add_data([BAKERY])
    assert report.status == "stored" and report.records == 40
    found = audit.analyse()
    texts = {r.record_id: r.text for r in audit.project.ledger.records()}
    names = [s.name for s in found.touchpoints]
    assert "Cake orders" in names and "Custom and phone orders" not in names and "Seating and cleanliness" not in names
    # what customers talk about that the owner removed is found: "tables were sticky"
    assert [m.name for m in found.missing][:1] == ["Seating and cleanliness"]
    assert "Loyalty card" in found.unmentioned
    assert len(found.fix_first) == 3 and "Queue and waiting" in found.fix_first
    for tp in found.fix_first:
        ideas = found.ideas[tp]
        assert len(ideas) == 5 and all(i.change and i.who and i.measure and i.risk for i in ideas)
        for i in ideas:
            for q in i.quotes:
                assert texts[q.record_id][q.start:q.end] == q.text  # their own words, verbatim
    # the reviews' stars: the customers who mention the queue rate the bakery lower than the rest
    waiting = next(s for s in found.touchpoints if s.name == "Queue and waiting")
    assert waiting.stars_scale == "1-5" and waiting.stars_rated >= 3
    assert waiting.stars.value < 0 and waiting.stars.high < 0 and waiting.stars_mentioners < waiting.stars_others
    queue = found.ideas["Queue and waiting"]
    assert queue[0].friction == "waiting" and queue[0].hypothesis.startswith("4 of the")
    assert queue[0].change.startswith("Set up a grab-and-go shelf")  # a bakery's idea before any business's
    assert "Reviewer" not in json.dumps([s.model_dump(mode="json") for s in found.touchpoints])
    assert not any("Anna K" in t or "Tom B" in t for t in texts.values())  # reviewers' names never stored
    # saved after every step: a new session on the folder has the owner's answers
    again = Audit(tmp_path / "bakery")
    assert again.state.business_type == "cafe_bakery" and "words" in again.state.done
    assert not again.state.touchpoints[[t.name for t in again.state.touchpoints].index("Seating and cleanliness")].listed


def test_ratings_fill_in_where_there_is_no_data_and_the_gap_compares_the_owners_view(tmp_path):
    audit = Audit(tmp_path / "salon")
    audit.choose("salon")
    audit.add_data([SALON])
    by_name = {t.name: t for t in audit.state.touchpoints}
    by_name["Complaints and follow-up"].rating.emotional = 1
    by_name["Complaints and follow-up"].rating.business = 5
    by_name["Waiting on arrival"].view = 5  # the owner thinks it goes very well
    found = audit.analyse()
    scored = {s.name: s for s in found.touchpoints}
    complaints = scored["Complaints and follow-up"]
    assert complaints.source == "owner" and complaints.mentions == 0  # labelled: rated by the owner
    waiting = scored["Waiting on arrival"]
    assert waiting.source == "data" and waiting.gap is not None and waiting.gap > 1
    assert found.gaps[0] == "Waiting on arrival"
    assert "Complaints and follow-up" in found.fix_first + found.easy_fixes
    assert found.ideas["Waiting on arrival"][0].change.startswith("Leave a 10-minute buffer")  # a salon's own


def test_next_quarter_keeps_the_last_findings_and_says_what_changed(tmp_path):
    audit = Audit(tmp_path / "bakery")
    audit.choose("cafe_bakery")
    audit.add_data([BAKERY])
    audit.analyse()
    audit.mark("fix")  # the owner saw what to fix: the next data starts a new quarter
    more = tmp_path / "q4.csv"
    more.write_text("Reviewer,Rating,Date,Review\nZed,1,2026-12-01,\"The queue was an hour long and so slow.\"\n"
                    "Yan,1,2026-12-02,\"Waited forever in the queue again, one person serving.\"\n", encoding="utf-8")
    audit.add_data([more])
    found = audit.analyse()
    assert len(audit.state.history) == 1 and audit.state.history[0].records == 40
    changed = {c.touchpoint: c for c in found.changes}
    assert changed["Queue and waiting"].now < changed["Queue and waiting"].before


def test_with_a_model_the_ideas_are_drafted_from_the_reviews_quotes(tmp_path):
    from valuestory.testing import ScriptedModel, answer, clauses

    def on_call(messages, schema):
        if "mentions" not in schema.get("properties", {}):
            return answer(messages, schema)
        user = messages[-1]["content"]
        said = clauses(user)
        return json.dumps({"mentions": [  # a model reading the queue complaints as such
            {"says": [int(n)], "touchpoint": "Queue and waiting", "sentiment": -0.7, "confidence": 0.9}
            for n, text in said if re.search(r"queue|wait", text, re.I)] + [
            {"says": [int(n)], "touchpoint": "Bread and cakes", "sentiment": 0.6, "confidence": 0.9}
            for n, text in said if re.search(r"bread|sourdough|croissant", text, re.I)]})

    audit = Audit(tmp_path / "bakery")
    audit.choose("cafe_bakery")
    audit.add_data([BAKERY])
    found = audit.analyse("scripted", model=ScriptedModel(name="stand-in", on_call=on_call))
    drafted = [i for tp in found.fix_first for i in found.ideas[tp]]
    assert found.engine == "llm" and drafted and all(i.friction != "general practice" for i in drafted)
    texts = {r.record_id: r.text for r in audit.project.ledger.records()}
    assert any(i.quotes for i in drafted)
    assert all(texts[q.record_id][q.start:q.end] == q.text for i in drafted for q in i.quotes)


def test_uploads_in_another_encoding_are_read_and_customer_text_is_escaped_on_the_page(tmp_path):
    from starlette.testclient import TestClient

    from valuestory.audit.web import create_app
    with TestClient(create_app(tmp_path / "shop"), base_url="http://127.0.0.1") as client:
        _shop_pages(client, tmp_path)
    assert Audit(tmp_path / "shop").state.uploads == ["uploads/latin1.csv"]  # the refused ones changed nothing


def _shop_pages(client, tmp_path: Path) -> None:
    token = re.search(r'name="token" value="([^"]+)"', client.get("/business").text).group(1)
    assert client.post("/business", data={"business_type": "local_shop", "token": token},
                       follow_redirects=False).status_code == 303
    latin = "Reviewer,Rating,Review\nA,2,Caf\xe9 cr\xe8me was <script>alert(1)</script> cold and the checkout slow\n"
    page = client.post("/words", data={"token": token},
                       files={"files": ("latin1.csv", latin.encode("latin-1"), "text/csv")})
    assert page.status_code == 200 and "1 feedback records taken" in page.text
    shown = client.get("/fix").text + client.get("/words").text + client.get("/ideas").text
    assert "<script>" not in shown and "&lt;script&gt;" in shown  # customer text is escaped
    huge = client.post("/words", data={"token": token},
                       files={"files": ("big.csv", b"a,b\n" + b"x" * (21 * 1024 * 1024), "text/csv")})
    assert huge.status_code == 400 and "over the 20 MB" in huge.text
    assert client.post("/words", data={"token": "forged"}).status_code == 403


def test_the_cli_gives_the_same_three_and_the_same_hypotheses_as_the_page(tmp_path):
    out = tmp_path / "audit.json"
    done = cli("audit", "-p", str(tmp_path / "cli"), "--business-type", "cafe_bakery", "--reviews", str(BAKERY),
               "--non-interactive", "--json", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert len(data["fix_first"]) == 3 and all(len(f["hypotheses"]) == 5 for f in data["fix_first"])
    page = Audit(tmp_path / "page")
    page.choose("cafe_bakery")
    page.add_data([BAKERY])
    found = page.analyse()
    assert [f["touchpoint"] for f in data["fix_first"]] == found.fix_first
    assert [[h["change"] for h in f["hypotheses"]] for f in data["fix_first"]] == \
        [[i.change for i in found.ideas[tp]] for tp in found.fix_first]
    bad = cli("audit", "-p", str(tmp_path / "x"), "--non-interactive", cwd=tmp_path)
    assert bad.returncode == 2 and "--business-type" in bad.stderr


def _post(url: str, data: bytes, headers: dict | None = None) -> int:
    req = urllib.request.Request(url, data=data, method="POST", headers=headers or {})
    try:
        return urllib.request.urlopen(req, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.integration
def test_the_audit_page_is_clicked_through_in_chromium_against_the_real_server(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    project = tmp_path / "bakery-audit"
    exe = Path(sys.executable).with_name("valuestory")
    shots = SHOTS or tmp_path / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    bad_files = {"empty.csv": b"", "photo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40,
                 "latin1.csv": "Reviewer,Rating,Review\nA,2,Caf\xe9 cr\xe8me was cold\n".encode("latin-1")}
    for name, content in bad_files.items():
        (tmp_path / name).write_bytes(content)
    with running([str(exe), "audit", "-p", str(project), "--port", str(port), "--no-browser"], f"{url}/business",
                 tmp_path / "server.log"):
        # a cross-site form post (no token) is refused and changes nothing
        assert _post(f"{url}/business", b"business_type=salon",
                     {"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"}) == 403
        assert not (project / ".valuestory" / AUDIT_FILE).exists() or "salon" not in \
            (project / ".valuestory" / AUDIT_FILE).read_text()
        with urllib.request.urlopen(f"{url}/business") as r:
            assert "default-src 'none'" in r.headers["Content-Security-Policy"]
        assert_not_served(url, ("/../../etc/passwd", "/static/../valuestory.toml", "/.valuestory/audit.json"))
        with headless_chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/")
            assert page.url.endswith("/business")
            page.check("input[value=cafe_bakery]")
            page.check("input[name=channels][value=walk-in]")
            page.screenshot(path=str(shots / "1-business.png"), full_page=True)
            page.click("text=Next: check your touchpoints")
            # the owner's list: untick one, rename one, add one
            page.uncheck("input[name=keep][value='Seating and cleanliness']")
            page.fill("input[aria-label='name of Custom and phone orders']", "Cake orders")
            page.fill("#added", "Loyalty card")
            page.screenshot(path=str(shots / "1b-touchpoints.png"), full_page=True)
            page.click("text=Next: your customers' words")
            # bad uploads: a clear message, nothing saved
            for name in ("empty.csv", "photo.png"):
                page.set_input_files("input[type=file]", str(tmp_path / name))
                page.click("button:has-text('Upload')")
                assert name in page.inner_text(".error") and "Nothing from this upload was saved" in \
                    page.inner_text(".error")
            page.screenshot(path=str(shots / "2a-bad-upload.png"), full_page=True)
            page.set_input_files("input[type=file]", str(BAKERY))
            page.click("button:has-text('Upload')")
            assert "40 feedback records taken" in page.inner_text(".ok")
            assert "Seating and cleanliness" in page.inner_text("main")  # what you might be missing
            page.screenshot(path=str(shots / "2-words.png"), full_page=True)
            page.click("text=Next: your map")
            assert "Queue and waiting" in page.inner_text(".journey")
            page.screenshot(path=str(shots / "3-map.png"), full_page=True)
            page.click("text=Next: scores")
            page.locator("tr", has_text="Queue and waiting").locator("select[name^=view-]").select_option("5")
            page.screenshot(path=str(shots / "4-scores.png"), full_page=True)
            page.click("text=Next: what to fix")
            three = page.locator(".card.fix h3").all_inner_texts()
            assert len(three) == 3 and any("Queue and waiting" in t for t in three)
            page.screenshot(path=str(shots / "5-fix.png"), full_page=True)
            page.click("text=Next: ideas to try")
            assert page.locator("table tbody tr").count() == 15
            page.screenshot(path=str(shots / "6-ideas.png"), full_page=True)
            page.click("text=Next: the printable audit")
            page.emulate_media(media="print")
            assert page.locator("header").is_hidden()
            page.screenshot(path=str(shots / "7-print.png"), full_page=True)
            pdf = tmp_path / "audit.pdf"
            page.pdf(path=str(pdf))
            assert errors == []
        assert pdf.stat().st_size > 10_000
    saved = json.loads((project / ".valuestory" / AUDIT_FILE).read_text())
    names = [t["definition"]["name"] for t in saved["touchpoints"]]
    assert "Cake orders" in names and "Loyalty card" in names and saved["business_type"] == "cafe_bakery"
    assert len(saved["uploads"]) == 1 and not re.search(r"empty|photo", json.dumps(saved["uploads"]))
    assert all((shots / f).stat().st_size > 10_000 for f in ("1-business.png", "5-fix.png", "6-ideas.png"))
