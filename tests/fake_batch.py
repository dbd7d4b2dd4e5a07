"""A scripted OpenAI-compatible Batch API on 127.0.0.1: files, batches that finish after
`checks` status checks, their output files, and live chat completions for what a batch did
not answer. Answers come from `valuestory.testing.answer`; one request of each batch may be
answered with an error, to be asked live."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from valuestory.testing import answer

from .servers import InThread, Replies


class FakeBatchAPI(InThread):
    def __init__(self, checks: int = 1, fail_one: bool = True) -> None:
        self.checks, self.fail_one = checks, fail_one
        self.files: dict[str, list[dict]] = {}
        self.batches: dict[str, dict] = {}
        self.live_calls = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    def _batch(self, batch_id: str) -> dict:
        b = self.batches[batch_id]
        return {"id": batch_id, "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": b["input"],
                "completion_window": "24h", "status": b["status"], "created_at": int(time.time()),
                "output_file_id": b.get("output")}

    def _output(self, batch_id: str) -> str:
        lines = []
        for k, item in enumerate(self.files[self.batches[batch_id]["input"]]):
            body = item["body"]
            schema = body["response_format"]["json_schema"]["schema"]
            if self.fail_one and k == 0:
                lines.append({"custom_id": item["custom_id"], "response": {"status_code": 500, "body": {}}})
                continue
            content = answer(body["messages"], schema)
            lines.append({"custom_id": item["custom_id"], "response": {"status_code": 200, "body": {
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20}}}})
        return "\n".join(json.dumps(x) for x in lines)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(Replies):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path.endswith("/files"):  # multipart: the JSONL lines are the file part
                    lines = [json.loads(x) for x in re.findall(rb'^\{"custom_id".*$', raw, re.M)]
                    with outer.lock:
                        file_id = f"file-{len(outer.files) + 1}"
                        outer.files[file_id] = lines
                    return self.reply_json({"id": file_id, "object": "file", "bytes": len(raw), "created_at": 0,
                                       "filename": "requests.jsonl", "purpose": "batch", "status": "processed"})
                body = json.loads(raw)
                if self.path.endswith("/batches"):
                    with outer.lock:
                        batch_id = f"batch-{len(outer.batches) + 1}"
                        outer.batches[batch_id] = {"input": body["input_file_id"], "status": "validating", "seen": 0}
                    return self.reply_json(outer._batch(batch_id))
                with outer.lock:
                    outer.live_calls += 1
                content = answer(body["messages"], body.get("response_format", {}).get("json_schema", {}).get(
                    "schema", {}))
                return self.reply_json({"id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
                                   "choices": [{"index": 0, "finish_reason": "stop",
                                                "message": {"role": "assistant", "content": content}}],
                                   "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}})

            def do_GET(self) -> None:  # noqa: N802
                if m := re.search(r"/batches/([^/]+)$", self.path):
                    with outer.lock:
                        b = outer.batches[m.group(1)]
                        b["seen"] += 1
                        if b["seen"] > outer.checks:
                            b["status"], b["output"] = "completed", f"out-{m.group(1)}"
                        else:
                            b["status"] = "in_progress"
                    return self.reply_json(outer._batch(m.group(1)))
                if m := re.search(r"/files/out-([^/]+)/content$", self.path):
                    return self.reply(outer._output(m.group(1)).encode(), content_type="application/octet-stream")
                return self.reply(b"", 404)

        return Handler
