"""Research ops, quarter to quarter: runs listed and shown, reports and exports of any run,
and `diff` between two runs or two periods of one run flagging the change planted in the data
and not the control touchpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from valuestory.pipeline.changes import Side, compare, period_range, within

ROOT = Path(__file__).resolve().parent.parent
PAYOUT_Q2 = ["Payouts are slow, it took a week", "My payout took nine days, terrible", "Payouts take forever",
             "The payout was late again", "Waiting days for payouts is awful", "Slow payouts hurt my cash flow"]
PAYOUT_Q3 = ["Instant payouts are brilliant", "Payouts arrive in minutes now, love it", "Fast payouts, great",
             "The new instant payout is a relief", "Payouts are quick and easy now", "Great payouts, money the same day"]
CONTROL = ["The invoices are fine", "Invoices look okay", "Invoices work as expected", "The invoice is fine",
           "Invoices are alright", "Invoicing is fine"]


def cli(*args: str, cwd: Path, check: int | None = 0) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("valuestory")
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd)
    if check is not None:
        assert done.returncode == check, done.stdout + done.stderr
    return done


def write_quarter(path: Path, quarter: str, start: int, payouts: list[str]) -> None:
    month = {"Q2": "05", "Q3": "08"}[quarter]
    rows = ["id,date,score,comment"]
    for i, (p, c) in enumerate(zip(payouts, CONTROL, strict=True)):
        rows.append(f"{start + i},2026-{month}-{10 + i},{3 if quarter == 'Q2' else 9},\"{p}. {c}.\"")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_q2_then_q3_diff_flags_the_planted_change_and_not_the_control(tmp_path):
    write_quarter(tmp_path / "q2.csv", "Q2", 100, PAYOUT_Q2)
    cli("ingest", "q2.csv", cwd=tmp_path)
    first = json.loads(cli("run", "--json", cwd=tmp_path).stdout)
    write_quarter(tmp_path / "q3.csv", "Q3", 200, PAYOUT_Q3)
    cli("ingest", "q3.csv", cwd=tmp_path)
    second = json.loads(cli("run", "--json", cwd=tmp_path).stdout)
    assert first["run_id"] != second["run_id"] and second["summary"]["mentions"] > first["summary"]["mentions"]
    listed = cli("runs", "list", cwd=tmp_path).stdout
    assert first["run_id"] in listed and second["run_id"] in listed
    shown = cli("runs", "show", first["run_id"][:10], cwd=tmp_path).stdout
    assert f"run {first['run_id']}: done" in shown and "mentions 12" in shown and "engine offline" in shown
    # reports and exports of either run; each run's report kept, the latest also under a stable name
    cli("report", "--run", first["run_id"], cwd=tmp_path)
    cli("report", cwd=tmp_path)
    out = tmp_path / "out"
    assert (out / f"report-{first['run_id']}.html").exists() and (out / f"report-{second['run_id']}.html").exists()
    assert (out / "report.html").read_bytes() == (out / f"report-{second['run_id']}.html").read_bytes()
    latest = (out / "report.html").read_text()
    section = latest[latest.index('<section id="changed">'):latest.index('<section id="scorecard">')]
    assert f"Against run {first['run_id']}" in section and "<svg" in section
    assert any(q.split(",")[0] in section for q in PAYOUT_Q3)  # the customers' words behind the change
    assert '<section id="changed">' not in (out / f"report-{first['run_id']}.html").read_text()  # no run before it
    early = json.loads(cli("export", "mentions", "--run", first["run_id"], "-f", "json", cwd=tmp_path).stdout)
    assert {m["run_id"] for m in early} == {first["run_id"]}
    # two runs: payouts flagged (negative to positive), the invoices control not; exit 3 for schedulers
    done = cli("diff", first["run_id"], second["run_id"], "--json", cwd=tmp_path, check=3)
    changes = json.loads(done.stdout)
    by_tp = {c["touchpoint"]: c for c in changes["touchpoints"]}
    payouts = next(c for tp, c in by_tp.items() if "ayout" in tp)
    assert payouts["flagged"] and payouts["difference"]["low"] > 0 and payouts["quotes"]
    control = [c for tp, c in by_tp.items() if "nvoic" in tp]
    assert control and not any(c["flagged"] for c in control)
    # two periods of the latest run, by record date: the same finding
    periods = json.loads(cli("diff", "--period", "2026Q2", "--vs", "2026Q3", "--json", cwd=tmp_path, check=3).stdout)
    assert periods["records_before"] == 6 and periods["records_after"] == 6
    assert any(c["flagged"] and "ayout" in c["touchpoint"] for c in periods["touchpoints"])
    text = cli("diff", "--period", "2026Q2", "--vs", "2026Q3", cwd=tmp_path, check=3).stdout
    assert "changed" in text and "2026Q2" in text
    bad = cli("diff", "--period", "2026Q5", "--vs", "2026Q3", cwd=tmp_path, check=2)
    assert "not a period" in bad.stderr
    none = cli("diff", "--period", "2026Q2", "--vs", "2026Q2", cwd=tmp_path, check=0)
    assert "No change is flagged" in none.stdout


def test_periods_and_a_side_without_dates():
    assert period_range("2026Q4") == (period_range("2026-10")[0], period_range("2027")[0])
    assert period_range("2026-02")[1].isoformat() == "2026-03-01"
    empty = Side(label="x", records=[], mentions=[])
    assert within(empty, None, None, "y").records == []
    assert compare(empty, empty).touchpoints == [] and compare(empty, empty).flagged == []


def test_an_unchanged_rerun_takes_every_stage_from_the_run_that_made_it(tmp_path):
    from valuestory.ingest.ingest import ingest
    from valuestory.pipeline import METHOD
    from valuestory.pipeline.run import run
    from valuestory.project import Project
    from valuestory.render.exports import KINDS, rows
    from valuestory.stores.runs import RunStore

    write_quarter(tmp_path / "q2.csv", "Q2", 100, PAYOUT_Q2)
    project = Project(tmp_path / "p")
    project.create()
    ingest(project, [tmp_path / "q2.csv"])
    first, second = run(project), run(project)
    store = RunStore(project.ledger)
    made, taken = store.get(first.run_id), store.get(second.run_id)
    assert [p.stage for p in taken.provenance()] == list(METHOD)
    assert all(p.seconds == 0.0 and p.engine == "offline" for p in taken.provenance())  # no stage made again
    assert any(p.seconds > 0 for p in made.provenance())

    def exported(reader):
        return {k: [{c: v for c, v in r.items() if c != "run_id"} for r in rows(reader, k, csv=True)] for k in KINDS}
    assert exported(made) == exported(taken)  # identical exports
    write_quarter(tmp_path / "q3.csv", "Q3", 200, PAYOUT_Q3)
    ingest(project, [tmp_path / "q3.csv"])
    third = store.get(run(project).run_id)
    assert next(p for p in third.provenance() if p.stage == "mentions").seconds > 0  # new records: made again
    assert len(third.coding.mentions) > len(taken.coding.mentions)


def test_declared_sources_a_schedule_in_a_temporary_crontab_and_overlapping_runs(tmp_path):
    (tmp_path / "exports").mkdir()
    write_quarter(tmp_path / "exports" / "nps_q2.csv", "Q2", 100, PAYOUT_Q2)
    cli("init", ".", cwd=tmp_path)
    assert "declares no [[sources]]" in cli("ingest", cwd=tmp_path, check=2).stderr
    with (tmp_path / "valuestory.toml").open("a", encoding="utf-8") as f:
        f.write('\n[[sources]]\npath = "exports/nps_*.csv"\nkind = "nps"\n')
    assert "1 stored" in cli("ingest", cwd=tmp_path).stdout  # no path: the declared sources
    assert "1 unchanged" in cli("ingest", cwd=tmp_path).stdout
    first = json.loads(cli("run", "--json", "--changes", cwd=tmp_path).stdout)
    write_quarter(tmp_path / "exports" / "nps_q3.csv", "Q3", 200, PAYOUT_Q3)
    told = tmp_path / "told.json"
    done = cli("run", "--ingest", "--changes", "--json", "--notify", f"cat > {told}", cwd=tmp_path, check=3)
    summary = json.loads(done.stdout)
    assert summary["changes"]["since"] == first["run_id"] and summary["changes"]["flagged"]
    assert json.loads(told.read_text())["run_id"] == summary["run_id"]  # the notification got the summary
    # the schedule, into a temporary crontab file: shown first, then written, replaced, removed
    tab = tmp_path / "crontab.txt"
    tab.write_text("0 1 * * * echo keep me\n", encoding="utf-8")
    shown = cli("schedule", "show", "--every", "quarterly", "--at", "07:15", cwd=tmp_path).stdout
    assert "15 7 1 1,4,7,10 *" in " ".join(shown.split()) and not tab.read_text().count("valuestory")
    cli("schedule", "install", "--every", "weekly", "--crontab", str(tab), cwd=tmp_path)
    cli("schedule", "install", "--every", "quarterly", "--at", "07:15", "--crontab", str(tab), cwd=tmp_path)
    lines = tab.read_text().splitlines()
    assert lines[0] == "0 1 * * * echo keep me" and sum("valuestory schedule:" in x for x in lines) == 1
    job = lines[-1]
    assert job.startswith("15 7 1 1,4,7,10 * cd ") and "VALUESTORY_LOCK_WAIT=0" in job
    assert "run --ingest --changes --json" in job and job.endswith("schedule.log 2>&1")
    units = tmp_path / "units"
    cli("schedule", "install", "--systemd", "--unit-dir", str(units), "--every", "monthly", cwd=tmp_path)
    timer = next(units.glob("*.timer")).read_text()
    assert "OnCalendar=*-*-01 06:00:00" in timer and "SuccessExitStatus=3" in next(units.glob("*.service")).read_text()
    cli("schedule", "remove", "--crontab", str(tab), cwd=tmp_path)
    assert tab.read_text() == "0 1 * * * echo keep me\n"
    # two runs at once: the scheduled one does not wait, it says who is writing and exits 2
    from valuestory.stores.lock import writing
    with writing(tmp_path / ".valuestory", "run"):
        env_cli = subprocess.run([str(Path(sys.executable).with_name("valuestory")), "run"], capture_output=True,
                                 text=True, cwd=tmp_path, env={**os.environ, "VALUESTORY_LOCK_WAIT": "0"})
    assert env_cli.returncode == 2 and "is writing to this project" in " ".join(env_cli.stderr.split())


def test_a_moved_file_and_a_cumulative_reexport_are_matched_by_their_records_not_their_path(tmp_path):
    from valuestory.ingest.ingest import ingest
    from valuestory.project import Project

    project = Project(tmp_path / "p")
    project.create()
    write_quarter(tmp_path / "q2.csv", "Q2", 100, PAYOUT_Q2)
    [first] = ingest(project, [tmp_path / "q2.csv"], kind="nps")
    assert first.status == "stored" and first.added == 6
    # the same file moved to another folder: every record unchanged, nothing duplicated
    (tmp_path / "archive").mkdir()
    (tmp_path / "q2.csv").rename(tmp_path / "archive" / "q2.csv")
    [moved] = ingest(project, [tmp_path / "archive" / "q2.csv"], kind="nps")
    assert (moved.status, moved.added, moved.changed, moved.removed) == ("stored", 0, 0, 0)
    assert moved.superseded and project.ledger.record_count() == 6
    # a cumulative export under a new name: Q2's six (one edited) and Q3's six
    write_quarter(tmp_path / "q3.csv", "Q3", 200, PAYOUT_Q3)
    old = (tmp_path / "archive" / "q2.csv").read_text().splitlines()
    old[1] = old[1].replace("it took a week", "it took two weeks")
    new = (tmp_path / "q3.csv").read_text().splitlines()[1:]
    (tmp_path / "all_responses.csv").write_text("\n".join(old + new) + "\n", encoding="utf-8")
    [cumulative] = ingest(project, [tmp_path / "all_responses.csv"], kind="nps")
    assert (cumulative.status, cumulative.added, cumulative.changed, cumulative.removed) == ("stored", 6, 1, 0)
    assert project.ledger.record_count() == 12 and len(list(project.ledger.sources())) == 1
    edited = next(r for r in project.ledger.records() if r.record_id.endswith(":100"))
    assert "two weeks" in edited.text
    # a file holding only some of a source's records is not the same source: refused, nothing changed
    (tmp_path / "part.csv").write_text("\n".join(old[:3]) + "\n", encoding="utf-8")
    [part] = ingest(project, [tmp_path / "part.csv"], kind="nps")
    assert part.status == "failed" and "already stored" in part.message and project.ledger.record_count() == 12


def test_an_export_without_ids_renamed_and_grown_is_matched_by_its_rows(tmp_path):
    """Rows without an id column are named by file and content; the renamed cumulative export
    keeps the stored rows' ids, adds only the new rows, and replaces the old source."""
    from valuestory.ingest.ingest import ingest
    from valuestory.project import Project
    project = Project(tmp_path / "p")
    project.create()
    rows = ["Rating,Review", "2,Waited twenty minutes for a coffee.", "5,Lovely croissants.", "1,Cold soup and rude staff."]
    (tmp_path / "reviews.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    [first] = ingest(project, [tmp_path / "reviews.csv"])
    before = {r.text: r.record_id for r in project.ledger.records()}
    assert first.status == "stored" and len(before) == 3
    (tmp_path / "reviews.csv").unlink()
    (tmp_path / "reviews_2026q3.csv").write_text("\n".join(rows + ["4,Quick service this time."]) + "\n", encoding="utf-8")
    [grown] = ingest(project, [tmp_path / "reviews_2026q3.csv"])
    assert (grown.status, grown.added, grown.changed, grown.removed) == ("stored", 1, 0, 0)
    assert [Path(x).name for x in grown.superseded] == ["reviews.csv"]
    after = {r.text: r.record_id for r in project.ledger.records()}
    assert len(after) == 4 and all(after[text] == rid for text, rid in before.items())  # the same ids
    assert [Path(s.path).name for s in project.ledger.sources()] == ["reviews_2026q3.csv"]
    # a different file of the same kind that holds only some of those rows is a source of its own
    (tmp_path / "other.csv").write_text("\n".join(rows[:2]) + "\n", encoding="utf-8")
    [other] = ingest(project, [tmp_path / "other.csv"])
    assert other.status == "stored" and not other.superseded and len(list(project.ledger.sources())) == 2
