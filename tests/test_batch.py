"""Model runs through a Batch API, against a scripted batch endpoint on 127.0.0.1: submitted,
the batch id kept, picked up by the next run, folded into the answer cache, and what a batch
did not answer asked live."""

from __future__ import annotations

import pytest

from valuestory.ingest.ingest import ingest
from valuestory.llm.batch import BatchPending
from valuestory.llm.models import OpenAIChat
from valuestory.pipeline.run import run
from valuestory.stores.runs import RunStore

from .fake_batch import FakeBatchAPI

NPS = ("id,score,comment\n1,3,The payouts take five days and I need the money\n"
       "2,9,The quote builder is fast and my customers love it\n3,2,Support never answers the phone\n")


def test_a_batch_run_submits_resumes_and_folds_the_answers_into_the_cache(project, write, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ingest(project, [write("s.csv", NPS)])
    with FakeBatchAPI(checks=1) as api:
        model = OpenAIChat(model="m", base_url=api.url)
        rounds, stages = 0, []
        while True:  # what `valuestory run --batch --wait` does
            try:
                result = run(project, "compat", model=model, batch=True)
                break
            except BatchPending as pending:
                stages.append((pending.stage, pending.status))
                rounds += 1
                assert rounds < 20
        # each model stage went out as a batch, was seen still running once, then picked up
        assert [s for s, _ in stages][:2] == ["mentions", "mentions"] and ("mentions", "in_progress") in stages
        assert {s for s, _ in stages} >= {"mentions", "value story"}  # one batch per model stage with requests
        assert len(api.batches) == len({s for s, _ in stages})
        assert api.live_calls == len(api.batches)  # the one request each batch did not answer went live
        assert result.coding.mentions and RunStore(project.ledger).latest().run_id == result.run_id
        # every answer is in the cache now: a run without --batch asks nothing
        before = api.live_calls
        again = run(project, "compat", model=OpenAIChat(model="m", base_url=api.url))
        assert api.live_calls == before and again.calls["calls"] == again.calls["cache_hits"]
    statuses = [s for (s,) in project.ledger.db.execute("SELECT status FROM batches")]
    assert statuses and set(statuses) == {"completed"}


def test_batch_needs_an_openai_compatible_model(project, write):
    from valuestory.errors import ValuestoryError
    from valuestory.testing import ScriptedModel, answer
    ingest(project, [write("s.csv", NPS)])
    with pytest.raises(ValuestoryError, match="--batch needs an OpenAI or compatible model"):
        run(project, "scripted", model=ScriptedModel(on_call=answer), batch=True)


def test_the_cli_stops_at_a_waiting_batch_and_waits_with_wait(tmp_path, monkeypatch):
    import json
    import os
    import subprocess
    import sys
    exe = str(__import__("pathlib").Path(sys.executable).with_name("valuestory"))
    (tmp_path / "s.csv").write_text(NPS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"} | {"VALUESTORY_BATCH_POLL": "0.05"}
    subprocess.run([exe, "ingest", "s.csv"], cwd=tmp_path, env=env, check=True, capture_output=True)
    with FakeBatchAPI(checks=1) as api:
        spec = f"compat:m@{api.url}"
        first = subprocess.run([exe, "run", "--llm", spec, "--batch"], cwd=tmp_path, env=env, capture_output=True,
                               text=True)
        assert first.returncode == 0 and "batch batch-1" in first.stdout and "run --batch` again" in \
            " ".join(first.stdout.split())
        done = subprocess.run([exe, "run", "--llm", spec, "--batch", "--wait", "--json"], cwd=tmp_path, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["summary"]["mentions"] > 0 and "checking again" in done.stderr
