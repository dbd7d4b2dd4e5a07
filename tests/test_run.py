"""The one run: every stage of the method in order, each output recorded with what made it,
read back typed through the run reader; and the rule that only stores/ speaks SQL."""

from __future__ import annotations

import re
from pathlib import Path

from valuestory.ingest.ingest import ingest
from valuestory.pipeline import METHOD
from valuestory.pipeline.artefacts import ARTEFACTS
from valuestory.pipeline.contract import stages
from valuestory.pipeline.run import plan, run
from valuestory.project import Project
from valuestory.stores.runs import RunReader, RunStore
from valuestory.testing import ScriptedModel, answer

ROOT = Path(__file__).resolve().parent.parent
SURVEY = """Response ID,Score,Comment
R1,3,"The invoices were wrong twice and support took four days to answer."
R2,9,"Payouts arrive the next morning, which is great."
R3,2,"I cancelled because the price went up without notice."
R4,10,"Support answered in minutes and fixed my invoice."
R5,6,"The app crashes when I add a photo to a quote."
"""


def _project(project, tmp_path: Path):
    folder = tmp_path / "nps"
    folder.mkdir()
    (folder / "survey.csv").write_text(SURVEY, encoding="utf-8")
    ingest(project, [folder])
    return project


def test_offline_run_records_every_stage_with_its_provenance(project, tmp_path):
    _project(project, tmp_path)
    seen = []
    result = run(project, on_progress=lambda stage, done, total: seen.append((stage, done, total)))
    reader = RunStore(project.ledger).latest()
    assert reader.run_id == result.run_id and reader.info.engine == "offline"
    provenance = reader.provenance()
    assert [p.stage for p in provenance] == list(METHOD)
    assert all(p.engine == "offline" and p.version == stages.get(p.stage).version for p in provenance)
    for stage in METHOD:  # each artefact reads back as the type its stage declares
        assert isinstance(reader.artefact(stage), ARTEFACTS[stage]) and ARTEFACTS[stage] is stages.get(stage).produces
    assert reader.coding.mentions and len(reader.journey.placements) == len(reader.coding.mentions)
    assert reader.info.summary.mentions == len(reader.coding.mentions)
    last = f"{len(METHOD)}/{len(METHOD)} valuemap"
    assert {(s, d) for s, d, _ in seen if s.endswith(" valuemap")} == {(last, 0), (last, 1)}


def test_model_run_records_prompts_and_falls_back_offline_where_the_model_has_no_engine(project, tmp_path):
    _project(project, tmp_path)
    model = ScriptedModel(name="fake", on_call=answer)
    result = run(project, model=model)
    reader = RunReader(project.ledger, result.run_id)
    by_stage = {p.stage: p for p in reader.provenance()}
    for name in METHOD:
        engine = "llm" if stages.get(name).model else "offline"
        assert by_stage[name].engine == engine, name
    assert by_stage["mentions"].prompts == ["mentions.v6"] and by_stage["mentions"].model == "fake"
    assert reader.info.prompts["stories"] == ["value_story.v3"]
    assert all(m.engine == "llm" for m in reader.coding.mentions)
    calls = len(model.calls)
    again = run(project, model=model)  # unchanged inputs: every answer comes from the cache
    assert len(model.calls) == calls and again.calls["cache_hits"] == again.calls["calls"] > 0


def test_plan_prices_each_model_stage_without_calling(project, tmp_path):
    _project(project, tmp_path)
    model = ScriptedModel(name="fake")  # no answers: any call would fail the test
    planned = plan(project, "", model=model)
    assert [p["stage"] for p in planned] == [n for n in METHOD if stages.get(n).model]
    assert planned[0]["calls"] >= 1 and planned[0]["tokens_in"] > 0 and not model.calls


def test_request_tokens_in_the_config_sizes_the_requests(project, tmp_path):
    folder = tmp_path / "nps"
    folder.mkdir()
    rows = [f"R{i},{i % 11},\"Reply {i}: the invoices were wrong and support took {i} days to answer me.\""
            for i in range(120)]
    (folder / "survey.csv").write_text("Response ID,Score,Comment\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ingest(project, [folder])
    model = ScriptedModel(name="fake")
    [default] = [p for p in plan(project, "", model=model) if p["stage"] == "mentions"]
    text = project.config_path.read_text(encoding="utf-8")
    project.config_path.write_text(text.replace("[run]\n", "[run]\nrequest_tokens = 500\n", 1), encoding="utf-8")
    small = Project(project.root)
    try:
        assert small.config.run.request_tokens == 500
        [planned] = [p for p in plan(small, "", model=model) if p["stage"] == "mentions"]
    finally:
        small.ledger.close()
    assert default["calls"] == 1 and planned["calls"] >= 4 and not model.calls


SQL = re.compile(r"\.execute(?:many|script)?\(|\bSELECT\b.+\bFROM\b|\bINSERT INTO\b")


def test_no_sql_outside_stores():
    offenders = []
    for folder in ("pipeline", "connectors", "evaluations", "valuestory", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            if SQL.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
