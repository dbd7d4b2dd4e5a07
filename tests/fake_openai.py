"""A scripted OpenAI-compatible chat server on 127.0.0.1 that injects faults.

It answers `POST /v1/chat/completions` like a compatible endpoint in JSON-schema mode, with
`valuestory.testing.answer` (plausible answers built from the request: quotes copied from
the records). Before answering a request it may fail it, at most `max_faults` times for the
same request (so the faults are transient: a run that retries gets every answer in the end),
whether to fail picked by a seeded hash of the request (the same on every machine whatever
order the threads send in), and the kinds of FAULTS taking turns."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from valuestory.testing import answer

from .servers import InThread, Replies

FAULTS = ("rate_limit", "server_error", "unavailable", "hang", "truncated", "invalid_json",
          "wrong_schema", "invented_quote")


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True  # servers in turn on one port: the model's name, and so the cache key, holds it


class FaultyOpenAI(InThread):
    def __init__(self, rate: float = 0.0, seed: int = 0, max_faults: int = 2, faults: tuple[str, ...] = FAULTS,
                 retry_after: float = 1.0, hang: float = 3.0, port: int = 0) -> None:
        self.rate, self.seed, self.max_faults, self.faults = rate, seed, max_faults, faults
        self.retry_after, self.hang = retry_after, hang
        self.injected: Counter = Counter()
        self.answered = 0
        self.rate_limited_at: dict[str, float] = {}  # request -> when it was told to wait
        self.early_retries = 0  # retries that came before Retry-After had passed
        self.attempts: Counter = Counter()
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        # a hung answer's client has gone by the time it is written: not an error of the test
        self.server.handle_error = lambda request, address: None

    def _fault(self, key: str) -> str | None:
        with self.lock:
            self.attempts[key] += 1
            attempt = self.attempts[key]
            asked = self.rate_limited_at.pop(key, None)
            if asked is not None and time.monotonic() - asked < self.retry_after:
                self.early_retries += 1
        if attempt > self.max_faults:
            return None
        roll = int(hashlib.sha256(f"{self.seed}:{key}:{attempt}".encode()).hexdigest(), 16)
        if (roll % 10_000) / 10_000 >= self.rate:
            return None
        with self.lock:  # the kinds take turns, so that every kind is met once there are enough faults
            fault = self.faults[sum(self.injected.values()) % len(self.faults)]
            self.injected[fault] += 1
            if fault == "rate_limit":
                self.rate_limited_at[key] = time.monotonic()
        return fault

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(Replies):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                messages = body["messages"]
                schema = body.get("response_format", {}).get("json_schema", {}).get("schema", {})
                user = next(m["content"] for m in messages if m["role"] == "user")
                fault = outer._fault(hashlib.sha256(user.encode()).hexdigest())
                if fault == "rate_limit":
                    return self.reply_json({"error": {"message": "Rate limit reached", "type": "rate_limit"}}, 429,
                                           {"Retry-After": f"{outer.retry_after:g}"})
                if fault in ("server_error", "unavailable"):
                    return self.reply_json({"error": {"message": "The server had an error", "type": "server_error"}},
                                           500 if fault == "server_error" else 503)
                if fault == "hang":
                    time.sleep(outer.hang)  # past the client's timeout
                content = answer(messages, schema)
                if fault == "invalid_json":
                    content = content[: len(content) // 2]
                elif fault == "wrong_schema":
                    content = json.dumps({"result": "done", "items": [1, 2, 3]})
                elif fault == "invented_quote":
                    data = json.loads(content)
                    for m in data.get("mentions", []):
                        m["says"] = [99999]  # a clause the request does not have
                    content = json.dumps(data)
                reply = {"id": "c1", "object": "chat.completion", "created": 1, "model": body.get("model", "m"),
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": content}}],
                         "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}
                if fault == "truncated":  # the connection drops halfway through the body
                    data = json.dumps(reply).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return None
                with outer.lock:
                    outer.answered += 1
                return self.reply_json(reply)

        return Handler
