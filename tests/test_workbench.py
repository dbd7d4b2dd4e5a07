"""The researcher's workbench: the small things a researcher trips over first."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
VALUESTORY = str(Path(sys.executable).parent / "valuestory")


def cli(*args: str, cwd: Path, check: int | None = 0, columns: int = 200) -> subprocess.CompletedProcess:
    result = subprocess.run([VALUESTORY, *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": str(columns)}, timeout=300)
    if check is not None:
        assert result.returncode == check, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("small")
    (root / "s.csv").write_text("id,score,comment\n1,9,Support answered within minutes.\n"
                                "2,3,The invoice was wrong twice and support never called back.\n", encoding="utf-8")
    cli("ingest", "s.csv", cwd=root)
    cli("run", cwd=root)
    return root


def test_dash_as_output_is_standard_output(small):
    out = cli("export", "mentions", "-f", "json", "-o", "-", cwd=small).stdout
    assert json.loads(out) and not (small / "-").exists()
    html = cli("report", "-o", "-", cwd=small).stdout
    assert html.lstrip().startswith("<!DOCTYPE html>") and not (small / "-").exists()


def test_offline_run_does_not_boast_groundedness(small):
    out = cli("run", cwd=small).stdout
    assert "groundedness" not in out  # true by construction offline


def test_run_on_an_empty_project_says_there_is_nothing_to_run(tmp_path):
    cli("init", "empty", cwd=tmp_path)
    done = cli("run", "-p", "empty", cwd=tmp_path, check=2)
    assert "nothing to run" in done.stderr and "valuestory ingest" in done.stderr


def test_paths_are_shown_whole_and_forget_takes_them(tmp_path):
    folder = tmp_path / "research" / "2026-q3-interviews-with-long-folder-names"
    folder.mkdir(parents=True)
    for name in ("participant-interview-transcript-a.txt", "participant-interview-transcript-b.txt"):
        (folder / name).write_text("Interviewer: How was setup?\nCustomer: Setup took an afternoon.\n", encoding="utf-8")
    out = cli("ingest", "research", cwd=tmp_path, columns=80).stdout
    flat = out.replace("\n", "").replace("│", "").replace(" ", "")
    for name in ("participant-interview-transcript-a.txt", "participant-interview-transcript-b.txt"):
        assert name in flat
    narrow = cli("sources", cwd=tmp_path, columns=80).stdout
    assert "…" not in narrow and "transcript-b.txt" in narrow.replace("\n", "").replace("│", "").replace(" ", "")
    listed = cli("sources", cwd=tmp_path).stdout
    shown = next(cell.strip() for line in listed.splitlines() if "transcript-a" in line for cell in line.split("│")
                 if "transcript-a" in cell)
    assert shown == "research/2026-q3-interviews-with-long-folder-names/participant-interview-transcript-a.txt"
    cli("forget", shown, cwd=tmp_path)
    left = cli("sources", cwd=tmp_path).stdout
    assert "transcript-a" not in left and "transcript-b" in left


# --- slices --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample corpus ingested and run once (offline), through the API."""
    from tests.conftest import CORPUS
    from valuestory.ingest.ingest import ingest
    from valuestory.pipeline.run import run
    from valuestory.project import Project
    project = Project(tmp_path_factory.mktemp("slices") / "p")
    project.create()
    ingest(project, [CORPUS])
    run(project)
    return project


def _latest(project):
    from valuestory.stores.runs import RunStore
    return RunStore(project.ledger).latest()


def test_a_slice_keeps_only_its_records_and_scores_them_again(sample):
    from valuestory.pipeline.scores import score
    from valuestory.pipeline.slices import Slice
    records = list(sample.ledger.records())
    whole = _latest(sample)
    view = whole.sliced(Slice(segment="multi-crew"), records)  # as the user types it: case does not matter
    segment = {r.record_id: r.segment for r in records}
    mine = [r for r in records if r.segment == "Multi-crew"]
    assert view.coding.mentions and {segment[m.record_id] for m in view.coding.mentions} == {"Multi-crew"}
    assert len(view.coding.mentions) < len(whole.coding.mentions)
    assert len(view.journey.placements) == len(view.coding.mentions)
    assert all(segment[d.record_id] == "Multi-crew" for d in view.journey.decisions)
    again = score(view.coding.mentions, mine, view.coding.touchpoints)
    assert view.scores.model_dump() == again.model_dump()  # computed again, from the slice alone
    assert view.info.summary.fix_first == again.fix_first and view.info.summary.slice == "segment multi-crew"
    assert set(view.personas.persona_of) == {r.record_id for r in mine}
    assert all(p.delivery.record_id in view.personas.persona_of for p in view.promises.items)
    assert whole.scores.fix_first == whole.info.summary.fix_first  # the run itself is untouched


def test_dates_and_periods_bound_a_slice_and_bad_ones_say_what_to_give(sample):
    from valuestory.errors import InputError
    from valuestory.pipeline.slices import Slice
    records = list(sample.ledger.records())
    q3 = Slice(since="2026Q3").record_ids(records, {})
    assert q3 and all(r.date and r.date[:10] >= "2026-07-01" for r in records if r.record_id in q3)
    assert not any(r.date is None for r in records if r.record_id in q3)  # undated records are left out
    upto = Slice(until="2026-06-30").record_ids(records, {})
    assert upto and max(r.date[:10] for r in records if r.record_id in upto) == "2026-06-30"
    dated = {r.record_id for r in records if r.date}
    assert q3 | upto == dated and not q3 & upto
    with pytest.raises(InputError, match="neither a date nor a period"):
        Slice(since="last spring").bounds()
    with pytest.raises(InputError, match="comes before"):
        Slice(since="2026-09-01", until="2026Q2").bounds()
    with pytest.raises(InputError, match="segments: Multi-crew, Owner-operator, Small crew"):
        Slice(segment="Enterprise").record_ids(records, {})


def test_a_run_on_a_slice_reads_only_its_records(sample):
    from valuestory.pipeline.run import run
    from valuestory.pipeline.slices import Slice
    result = run(sample, cut=Slice(kind="interview"))
    assert result.coding.mentions and {m.kind for m in result.coding.mentions} == {"interview"}
    assert _latest(sample).info.summary.slice == "kind interview"
    run(sample)  # the later tests read the whole run again


def test_persona_scorecards_flag_only_differences_the_intervals_support():
    from valuestory.pipeline.artefacts import Mention, TouchpointDef
    from valuestory.pipeline.scores import by_persona, score
    from valuestory.records import Record
    records = [Record(record_id=f"nps:{i}", kind="nps", source="s", text="x", score=5) for i in range(60)]
    persona_of = {f"nps:{i}": "Solo" if i < 30 else "Crew" for i in range(60)}

    def said(i: int, tp: str, sentiment: float) -> Mention:
        return Mention(record_id=f"nps:{i}", kind="nps", touchpoint=tp, quote="words", start=0, end=5,
                       sentiment=sentiment, polarity="negative" if sentiment < 0 else "positive", confidence=0.9)
    # Solo hate payouts, Crew like them; both feel the same, noisily, about the app
    mentions = [said(i, "Payouts", -0.7 if i < 30 else 0.5) for i in range(60)]
    mentions += [said(i, "App", (-0.4, 0.4)[i % 2]) for i in range(60)]
    defs = [TouchpointDef(name="Payouts", channel="product"), TouchpointDef(name="App", channel="app")]
    cards = by_persona(mentions, records, defs, persona_of)
    assert cards.personas == ["Crew", "Solo"]
    cell = {(p.persona, p.score.touchpoint): p for p in cards.scores}
    solo = cell[("Solo", "Payouts")]
    assert solo.differs and solo.versus_rest.value == -1.2 and solo.versus_rest.high < 0
    assert cell[("Crew", "Payouts")].differs and cell[("Crew", "Payouts")].versus_rest.low > 0
    assert not cell[("Solo", "App")].differs and not cell[("Crew", "App")].differs
    own = score([m for m in mentions if persona_of[m.record_id] == "Solo"], records[:30], defs)
    assert solo.score.model_dump() == next(s for s in own.scores if s.touchpoint == "Payouts" and s.scope == "overall"
                                           ).model_dump()
    assert cards.fix_first["Solo"][0] == "Payouts"


def test_slices_from_the_command_line(sample):
    root = sample.root
    out = cli("export", "scores", "--segment", "Small crew", "-f", "json", cwd=root).stdout
    sliced = {s["touchpoint"]: s for s in json.loads(out) if s["scope"] == "overall"}
    whole = {s["touchpoint"]: s for s in json.loads(cli("export", "scores", "-f", "json", cwd=root).stdout)
             if s["scope"] == "overall"}
    assert sliced and all(sliced[t]["mentions"] <= whole[t]["mentions"] for t in sliced)
    assert any(sliced[t]["mentions"] < whole[t]["mentions"] for t in sliced)
    done = cli("report", "--persona", "Owner-operator", "--since", "2026Q3", cwd=root)
    written = next(line.split(": ", 1)[1].strip() for line in done.stdout.splitlines() if "Report written" in line)
    assert written.endswith("-persona-Owner-operator-since-2026Q3.html")
    html = Path(written).read_text(encoding="utf-8")
    assert "Slice: persona Owner-operator, since 2026Q3" in html
    assert "no record is in the slice" in cli("export", "mentions", "--segment", "Nobody", cwd=root, check=2).stderr
    personas = json.loads(cli("export", "personas", "-f", "json", cwd=root).stdout)
    assert {p["persona"] for p in personas} >= {"Owner-operator", "Small crew", "Multi-crew"}
    assert all(p["differs_from_rest"] == int(p["versus_rest_low"] is not None and (
        p["versus_rest_low"] > 0 or p["versus_rest_high"] < 0)) for p in personas)
