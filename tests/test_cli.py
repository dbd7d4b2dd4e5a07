"""The CLI as a user types it, on the sample corpus."""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from valuestory.pipeline.personas import assign, personas_for
from valuestory.project import Project

from .conftest import CORPUS

pytestmark = pytest.mark.e2e
VALUESTORY = str(Path(sys.executable).parent / "valuestory")


def run(*args: str, cwd: Path, env: dict | None = None, check: int | None = 0) -> subprocess.CompletedProcess:
    result = subprocess.run([VALUESTORY, *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "200", **(env or {})}, timeout=300)
    if check is not None:
        assert result.returncode == check, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    run("init", "proj", cwd=root)
    first = run("ingest", "-p", "proj", str(CORPUS), cwd=root)
    assert "19 stored" in first.stdout
    return root / "proj"


def test_init_writes_a_commented_config(tmp_path):
    out = run("init", "research", cwd=tmp_path)
    config = (tmp_path / "research" / "valuestory.toml").read_text()
    assert "Created" in out.stdout and "[privacy]" in config and "# " in config
    assert "exists already" in run("init", "research", cwd=tmp_path).stdout


def test_reingest_stores_nothing_new(demo):
    again = run("ingest", str(CORPUS), cwd=demo)  # the project found from the current folder
    summary = again.stdout.split("Ingest summary")[1]
    assert "19 unchanged" in again.stdout and "stored" not in summary.split("19 unchanged")[0].replace("unchanged", "")


def test_sources_lists_every_kind(demo):
    out = run("sources", cwd=demo.parent, env={"VALUESTORY_PROJECT": str(demo)}).stdout
    for kind in ("interview", "nps", "support", "sales", "feedback"):
        assert kind in out
    assert "2026-04" in out and "wordllama" in out


def test_search_shows_record_kind_source_and_passage(demo):
    out = run("search", "-p", str(demo), "--json", "-n", "5", "the accounting sync made duplicate invoices", cwd=demo).stdout
    hits = json.loads(out)
    assert len(hits) == 5 and {"record_id", "kind", "source", "snippet", "score"} <= set(hits[0])
    assert sum("sync" in h["snippet"].lower() or "duplicate" in h["snippet"].lower() for h in hits) >= 4
    table = run("search", "-p", str(demo), "card reader arrived without instructions", "-n", "3", cwd=demo).stdout
    assert "passage" in table and "card reader" in table.lower() and "nps" in table


def test_export_records_csv_and_json(demo, tmp_path):
    run("export", "records", "-p", str(demo), "--format", "csv", "-o", str(tmp_path / "r.csv"), cwd=demo)
    rows = list(csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert {"record_id", "kind", "source", "text"} <= set(rows[0])
    assert len(rows) >= 12 + 300 + 60 + 40
    assert not any("mike.delgado@" in r["text"] for r in rows)
    data = json.loads(run("export", "records", "-p", str(demo), "-f", "json", "-k", "interview", cwd=demo).stdout)
    assert len(data) == 13 and all(d["turns"] for d in data)


def test_bad_input_exits_nonzero_and_names_the_file(tmp_path):
    (tmp_path / "nps").mkdir()
    (tmp_path / "nps" / "good.csv").write_text("id,score,comment\n1,9,great\n")
    (tmp_path / "nps" / "bad.csv").write_text("id,score,comment\n1,9,great\n2,15,wow\n")
    result = run("ingest", "nps", cwd=tmp_path, check=1)
    assert "bad.csv, line 3, column 'score': score 15 is outside 0-10" in " ".join(result.stderr.split())
    assert "1 stored" in result.stdout and "1 failed" in result.stdout


def test_map_and_kind_options(tmp_path):
    (tmp_path / "export.csv").write_text("ref;Q7;Q8\na;3;slow payouts\nb;10;love it\n")
    run("ingest", "export.csv", "--kind", "nps", "--map", "score=Q7", "--map", "text=Q8", "--map", "id=ref", cwd=tmp_path)
    data = json.loads(run("export", "records", "-f", "json", cwd=tmp_path).stdout)
    assert [(d["record_id"], d["score"], d["text"]) for d in data] == [("nps:a", 3.0, "slow payouts"), ("nps:b", 10.0, "love it")]
    bad = run("ingest", "export.csv", "--map", "score", cwd=tmp_path, check=2)
    assert "FIELD=COLUMN" in bad.stderr


def test_commands_without_a_project_say_what_to_do(tmp_path):
    out = run("sources", cwd=tmp_path, check=2)
    assert "No valuestory project" in out.stderr and "valuestory init" in out.stderr


@pytest.mark.parametrize("command", [[], ["init"], ["ingest"], ["sources"], ["search"], ["export"],
                                     ["export", "records"], ["export", "roles"], ["forget"], ["reindex"]])
def test_every_command_has_help(tmp_path, command):
    out = run(*command, "--help", cwd=tmp_path).stdout
    assert "Usage" in out and len(out) > 200


def test_run_offline_and_export_its_results(demo, tmp_path):
    out = run("run", "-p", str(demo), cwd=demo).stdout
    assert "Fix first:" in out and "groundedness" not in out  # true by construction offline: not boasted
    assert "(offline, wordllama" in out  # the engine and the embedding it read with
    run("export", "mentions", "-p", str(demo), "-o", str(tmp_path / "m.csv"), cwd=demo)
    mentions = list(csv.DictReader((tmp_path / "m.csv").open(encoding="utf-8")))
    assert {"record_id", "kind", "touchpoint", "sentiment", "polarity", "confidence", "quote"} <= set(mentions[0])
    records = {r["record_id"]: r for r in json.loads(run("export", "records", "-p", str(demo), "-f", "json", cwd=demo).stdout)}
    for m in mentions:  # every quote shown is a verbatim span of its record
        assert records[m["record_id"]]["text"][int(m["start"]):int(m["end"])] == m["quote"]
    touchpoints = json.loads(run("export", "touchpoints", "-p", str(demo), "-f", "json", cwd=demo).stdout)
    assert {"touchpoint", "description", "channel", "mentions", "respondents"} <= set(touchpoints[0])
    scores = json.loads(run("export", "scores", "-p", str(demo), "-f", "json", cwd=demo).stdout)
    assert {"touchpoint", "emotional_impact", "functional_performance", "frequency", "business_impact",
            "nps_impact", "nps_impact_low", "nps_impact_high", "priority"} <= set(scores[0])
    ranked = [s for s in scores if s["scope"] == "overall" and s["rank"]]
    assert [s["rank"] for s in ranked] == list(range(1, len(ranked) + 1))
    fix_first = out.split("Fix first:")[1].split("\n")[0]
    assert ranked[0]["touchpoint"] in fix_first


def test_dry_run_plans_without_calling(demo):
    assert "no model calls" in run("run", "--dry-run", "-p", str(demo), cwd=demo).stdout
    out = run("run", "--dry-run", "--llm", "compat:some-model@http://127.0.0.1:9/v1", "-p", str(demo), cwd=demo).stdout
    # each model-backed stage with its prompt, its calls and the tokens it would send
    assert re.search(r"^mentions \(mentions\.v6\): [1-9]\d* calls? \(0 answered from the cache\), [\d,]+ input tokens",
                     out, re.M)
    assert "estimate" in out
    project = Project(demo)
    try:
        records = list(project.ledger.records())
        personas = len(set(assign(records, personas_for(records, project.config.personas)).values()))
    finally:
        project.ledger.close()
    stories = re.search(r"^stories \(value_story\.v3\): (\d+) calls?", out, re.M)
    assert stories and 1 <= int(stories.group(1)) <= personas  # up to one call per persona
    assert re.search(r"^opportunities \(opportunities\.v2\): 1 call\b", out, re.M)  # plus one
    # an OpenAI run is priced before any key is set: planning sends nothing
    priced = run("run", "--dry-run", "--llm", "openai:gpt-4o-mini", "-p", str(demo), cwd=demo,
                 env={"OPENAI_API_KEY": ""}).stdout
    assert "model: openai:gpt-4o-mini" in priced and re.search(r"estimated cost: \$\d+\.\d\d", priced)


def test_export_before_any_run_says_what_to_do(tmp_path):
    (tmp_path / "s.csv").write_text("id,score,comment\n1,9,great\n")
    run("ingest", "s.csv", cwd=tmp_path)
    assert "valuestory run" in run("export", "scores", cwd=tmp_path, check=2).stderr


def test_decisions_and_journeys_exports(demo):
    run("run", "-p", str(demo), cwd=demo)
    decisions = json.loads(run("export", "decisions", "-p", str(demo), "-f", "json", cwd=demo).stdout)
    assert {"persona", "record_id", "decision", "phase", "quote"} <= set(decisions[0])
    assert {d["decision"] for d in decisions} >= {"inciting incident", "intention", "investment", "interpretation"}
    records = {r["record_id"]: r for r in json.loads(run("export", "records", "-p", str(demo), "-f", "json", cwd=demo).stdout)}
    for d in decisions:
        assert records[d["record_id"]]["text"][d["start"]:d["end"]] == d["quote"]
    journeys = json.loads(run("export", "journeys", "-p", str(demo), "-f", "json", cwd=demo).stdout)
    assert {"persona", "phase", "stage", "touchpoint", "emotional_impact", "mentions"} <= set(journeys[0])
    assert {j["phase"] for j in journeys} >= {"Imbalance", "Challenge", "Engagement", "Transformation"}


def test_roles_and_opportunities_exports(demo, tmp_path):
    run("run", "-p", str(demo), cwd=demo)
    roles = json.loads(run("export", "roles", "-p", str(demo), "-f", "json", cwd=demo).stdout)
    assert {"persona", "phase", "role", "target_story", "assessment", "supporting_touchpoints",
            "undermining_touchpoints", "verdict", "supporting_quotes", "undermining_quotes"} <= set(roles[0])
    assert {r["role"] for r in roles} == {"Empathizer", "Storyteller", "Guide", "Partner"}
    run("export", "opportunities", "-p", str(demo), "-o", str(tmp_path / "o.csv"), cwd=demo)
    opps = list(csv.DictReader((tmp_path / "o.csv").open(encoding="utf-8")))
    assert {"touchpoint", "rank", "hypothesis", "change", "resources", "success_measure",
            "unintended_consequences", "evidence"} <= set(opps[0])
    per_touchpoint = {}
    for o in opps:
        per_touchpoint.setdefault(o["touchpoint"], []).append(int(o["rank"]))
    assert per_touchpoint and all(ranks == list(range(1, len(ranks) + 1)) and len(ranks) <= 5
                                  for ranks in per_touchpoint.values())
    assert any(o["evidence"] for o in opps)


def test_valuemap_export(demo, tmp_path):
    run("run", "-p", str(demo), cwd=demo)
    run("export", "valuemap", "-p", str(demo), "-o", str(tmp_path / "v.csv"), cwd=demo)
    rows = list(csv.DictReader((tmp_path / "v.csv").open(encoding="utf-8")))
    assert {"persona", "job", "desired_outcome", "key_touchpoints", "high_points", "friction", "value_gap",
            "internal_processes", "opportunities", "value_promise"} <= set(rows[0])
    from valuestory.pipeline.jobs import is_valid_job
    assert all(is_valid_job(r["job"]) for r in rows)
    maps = json.loads(run("export", "valuemap", "-p", str(demo), "-f", "json", cwd=demo).stdout)
    assert all(set(m["empathy_map"]) == {"sees", "says", "does", "feels", "hears", "thinks"} for m in maps)


def test_stories_export(demo):
    run("run", "-p", str(demo), cwd=demo)
    stories = json.loads(run("export", "stories", "-p", str(demo), "-f", "json", cwd=demo).stdout)
    assert stories and {"persona", "decision", "explicit_story", "implicit_story", "confidence", "evidence"} <= set(stories[0])
    exported = run("export", "records", "-p", str(demo), "-f", "json", cwd=demo).stdout
    records = {r["record_id"]: r["text"] for r in json.loads(exported)}
    for s in stories:
        assert s["implicit_story"].startswith("Not drafted")  # offline: said, never a template
        for statements in list(s["context"].values()) + list(s["motivators"].values()):
            assert all(st["verbatim"] and st["text"] in records[st["records"][0]] for st in statements)


def test_a_codebook_is_the_catalogue_and_what_it_lacks_is_listed_apart(demo, tmp_path):
    book = tmp_path / "codebook.csv"
    book.write_text("name,description,examples,owner,effort\n"
                    "Getting paid,\"Payouts, card payments, how fast money arrives\",payouts take days | "
                    "the card reader failed,Payments,low\n"
                    "Invoices,\"Invoices and quotes we send, line items, templates\",,Billing,medium\n", encoding="utf-8")
    run("run", "-p", str(demo), "-c", str(book), cwd=tmp_path)
    mentions = list(csv.DictReader(run("export", "mentions", "-p", str(demo), cwd=tmp_path).stdout.splitlines()))
    assert mentions and {m["touchpoint"] for m in mentions} <= {"Getting paid", "Invoices"}
    scores = list(csv.DictReader(run("export", "scores", "-p", str(demo), cwd=tmp_path).stdout.splitlines()))
    assert {s["touchpoint"] for s in scores} <= {"Getting paid", "Invoices"}
    touchpoints = {t["touchpoint"]: t for t in csv.DictReader(
        run("export", "touchpoints", "-p", str(demo), cwd=tmp_path).stdout.splitlines())}
    assert (touchpoints["Getting paid"]["owner"], touchpoints["Getting paid"]["effort"]) == ("Payments", "low")
    themes = json.loads(run("export", "emerging", "-p", str(demo), "-f", "json", cwd=tmp_path).stdout)
    texts = {r["record_id"]: r["text"] for r in json.loads(
        run("export", "records", "-p", str(demo), "-f", "json", cwd=tmp_path).stdout)}
    assert themes and all(len(t["records"]) >= 2 for t in themes)
    assert not {t["theme"] for t in themes} & {"Getting paid", "Invoices"}
    for q in (q for t in themes for q in t["quotes"]):  # examples are verbatim spans of their records
        assert texts[q["record_id"]][q["start"]:q["end"]] == q["text"]
    report = tmp_path / "r.md"
    run("report", "-p", str(demo), "-f", "md", "-o", str(report), cwd=tmp_path)
    section = report.read_text().split("## What your codebook does not cover yet")[1].split("## 8.")[0]
    assert f"**{themes[0]['theme']}** ({len(themes[0]['records'])} records)" in section.replace("\\", "")


def test_csv_exports_cannot_carry_a_spreadsheet_formula(tmp_path):
    """Customer text is data in a spreadsheet too: a cell that starts like a formula is shown as text."""
    from valuestory.cli.export import Format, write_rows
    hostile = ['=HYPERLINK("http://attacker.example","click")', "@SUM(A1:A9)", "+1+1", "-2+3", "\tx"]
    rows = [{"quote": q, "sentiment": -0.5, "n": 3} for q in hostile] + [{"quote": "fine text", "sentiment": 0.2, "n": 1}]
    out = tmp_path / "m.csv"
    write_rows(rows, Format.csv, out, "mentions")
    read = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["quote"] for r in read] == ["'" + q for q in hostile] + ["fine text"]
    assert read[0]["sentiment"] == "-0.5" and read[0]["n"] == "3"  # numbers stay numbers
    write_rows(rows, Format.json, out, "mentions")
    assert [r["quote"] for r in json.loads(out.read_text())][:len(hostile)] == hostile  # JSON keeps the text


def test_cache_command_verifies_and_clears_the_model_answers(tmp_path):
    from valuestory.project import Project
    project = Project(tmp_path / "p")
    project.create()
    project.ledger.cache_answer("k1", "compat:m@http://127.0.0.1:1/v1", "mentions.v3", '{"mentions": []}', 10, 5)
    project.ledger.cache_answer("k2", "compat:m@http://127.0.0.1:1/v1", "mentions.v3", "{broken", 10, 5)
    out = run("cache", "--project", str(project.root), cwd=tmp_path)
    assert "1 unreadable answers deleted" in out.stdout and "mentions.v3" in out.stdout
    assert [k for k, _ in project.ledger.cached_answers()] == ["k1"]
    out = run("cache", "--clear", "--project", str(project.root), cwd=tmp_path)
    assert "deleted 1 cached answers" in out.stdout and project.ledger.cached_answers() == []
