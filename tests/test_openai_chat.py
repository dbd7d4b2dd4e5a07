"""OpenAIChat over real HTTP against a scripted OpenAI-style endpoint on 127.0.0.1: rate
limits become retries, a refused json_schema falls back to JSON mode, tokens are counted."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from valuestory.errors import ValuestoryError
from valuestory.llm.models import OpenAIChat, TransientError, make_model
from valuestory.llm.runner import Request, Runner
from valuestory.pipeline.mentions.llm import MentionBatch


class Endpoint(BaseHTTPRequestHandler):
    script: list[tuple[int, dict]] = []
    seen: list[dict] = []
    keys: list[str] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Endpoint.seen.append(body)
        Endpoint.keys.append(self.headers.get("Authorization", ""))
        status, payload = Endpoint.script.pop(0)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def reply(content: str) -> tuple[int, dict]:
    return 200, {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": content}}],
                 "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}}


@pytest.fixture
def endpoint(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Endpoint.script, Endpoint.seen, Endpoint.keys = [], [], []
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def ask(model, project, user: str = "u") -> Request:
    req = Request(stage="mentions", key="k", prompt_version="mentions.v3", schema=MentionBatch,
                  messages=[{"role": "system", "content": "s"}, {"role": "user", "content": user}])
    return Runner(model, project.ledger, "run", backoff=0).run([req])[0]


def test_rate_limits_are_retried_and_tokens_counted(endpoint, project):
    Endpoint.script = [(429, {"error": {"message": "Rate limit reached", "type": "rate_limit"}}),
                       reply('{"mentions": []}')]
    answer = ask(OpenAIChat(model="m", base_url=endpoint), project)
    assert answer.value == MentionBatch(mentions=[]) and answer.attempts == 2
    assert (answer.tokens_in, answer.tokens_out, answer.mode) == (42, 7, "json_schema")
    assert Endpoint.seen[-1]["response_format"]["type"] == "json_schema"


def test_refused_json_schema_falls_back_to_json_mode_then_tools(endpoint, project):
    refused = (400, {"error": {"message": "response_format json_schema is not supported", "type": "invalid_request_error"}})
    Endpoint.script = [refused, reply('{"mentions": []}')]
    model = OpenAIChat(model="m", base_url=endpoint)
    answer = ask(model, project)
    assert answer.mode == "json_object" and model.mode == "json_object"
    assert Endpoint.seen[-1]["response_format"]["type"] == "json_object"
    assert "JSON schema" in Endpoint.seen[-1]["messages"][0]["content"]  # the schema travels in the prompt
    Endpoint.script = [(400, {"error": {"message": "response_format not supported"}}),
                       (200, {**reply("")[1], "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                           "role": "assistant", "content": None, "tool_calls": [{"id": "t1", "type": "function",
                           "function": {"name": "MentionBatch", "arguments": '{"mentions": []}'}}]}}]})]
    tools = OpenAIChat(model="m", base_url=endpoint, mode="json_object")
    assert tools.complete([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
                          MentionBatch.model_json_schema(), "MentionBatch").mode == "tools"


def test_other_errors_are_not_retried(endpoint, project):
    Endpoint.script = [(401, {"error": {"message": "Incorrect API key"}})]
    answer = ask(OpenAIChat(model="m", base_url=endpoint), project)
    assert answer.value is None and answer.attempts == 1 and "AuthenticationError" in answer.error
    assert "sk-test" not in answer.error


def test_specs(monkeypatch):
    assert make_model("offline") is None
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValuestoryError, match="OPENAI_API_KEY"):
        make_model("openai:gpt-4o-mini")
    with pytest.raises(ValuestoryError, match="compat:MODEL@URL"):
        make_model("compat:llama")
    with pytest.raises(ValuestoryError, match="Unknown model provider"):
        make_model("nope:x")
    assert make_model("compat:llama@http://127.0.0.1:1/v1").name == "compat:llama@http://127.0.0.1:1/v1"
    assert issubclass(TransientError, Exception)


def test_a_compatible_endpoint_never_receives_the_openai_key(endpoint, project, monkeypatch):
    """OPENAI_API_KEY (set by the fixture) is for OpenAI; a compat: URL gets its own key or none."""
    monkeypatch.delenv("VALUESTORY_COMPAT_API_KEY", raising=False)
    Endpoint.script = [reply('{"mentions": []}'), reply('{"mentions": []}')]
    ask(OpenAIChat(model="m", base_url=endpoint), project)
    monkeypatch.setenv("VALUESTORY_COMPAT_API_KEY", "gateway-key")
    ask(OpenAIChat(model="m", base_url=endpoint), project, user="another question")
    assert not any("sk-test" in k for k in Endpoint.keys)
    assert Endpoint.keys[1] == "Bearer gateway-key"


def test_the_input_a_providers_prompt_cache_served_is_logged_with_the_call(endpoint, project):
    cached = reply('{"mentions": []}')
    cached[1]["usage"] = {"prompt_tokens": 2048, "completion_tokens": 7, "total_tokens": 2055,
                          "prompt_tokens_details": {"cached_tokens": 1536}}
    Endpoint.script = [cached]
    answer = ask(OpenAIChat(model="m", base_url=endpoint), project)
    assert (answer.tokens_in, answer.tokens_cached) == (2048, 1536)
    totals = project.ledger.call_totals("run")
    assert (totals["tokens_in"], totals["tokens_cached"]) == (2048, 1536)
