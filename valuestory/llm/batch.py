"""Model runs through the OpenAI Batch API (`valuestory run --batch`): half the price, answered
within a day instead of at once.

A stage's requests the answer cache cannot answer go out as one batch; its id is kept in the
ledger, so a later run (or `--wait`) picks the results up, folds them into the answer cache
and goes on; what the batch did not answer well is asked live. Later stages are built from
earlier stages' answers, so a full run takes one batch per model stage, each picked up by the
next `valuestory run --batch`.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass

from valuestory.errors import ValuestoryError
from valuestory.stores.ledger import Ledger

from .models import COMPAT_KEY, OpenAIChat
from .runner import Request

OPEN = ("validating", "in_progress", "finalizing", "cancelling")
DONE = "completed"
WINDOW = "24h"


class BatchPending(ValuestoryError):
    """A stage's batch is not answered yet: the run stops here and is picked up later."""

    def __init__(self, stage: str, batch_id: str, status: str, requests: int) -> None:
        self.stage, self.batch_id, self.status, self.requests = stage, batch_id, status, requests
        super().__init__(f"the {stage} stage's batch {batch_id} ({requests} requests) is {status}: run "
                         "`valuestory run --batch` again later to pick its answers up (or add --wait)")


@dataclass
class Batcher:
    model: OpenAIChat
    ledger: Ledger

    def __post_init__(self) -> None:
        import openai
        key = os.environ.get(COMPAT_KEY if self.model.base_url else "OPENAI_API_KEY") or "not-needed"
        self.client = openai.OpenAI(base_url=self.model.base_url, api_key=key, max_retries=2,
                                    timeout=self.model.timeout)

    def settle(self, stage: str, todo: list[tuple[Request, str]]) -> None:
        """Answer these requests from a batch: fold a finished one into the answer cache and
        return (the runner then reads the cache; what is still missing goes live), or submit
        a new one, or say one is still running (BatchPending)."""
        keys = {key for _, key in todo}
        open_batch = self.ledger.open_batch(stage, self.model.name)
        if open_batch is not None:
            batch_id, sent = open_batch
            batch = self.client.batches.retrieve(batch_id)
            if batch.status in OPEN:
                raise BatchPending(stage, batch_id, batch.status, len(sent))
            self.ledger.close_batch(batch_id, batch.status)
            if batch.status == DONE and batch.output_file_id:
                self._fold(batch.output_file_id, {key: req for req, key in todo})
            if keys <= set(sent):
                return  # what the batch did not answer is asked live
            todo = [(req, key) for req, key in todo if key not in sent and not self.ledger.cached(key)]
            if not todo:
                return
        lines = [json.dumps({"custom_id": key, "method": "POST", "url": "/v1/chat/completions", "body": self._body(req)})
                 for req, key in todo]
        upload = self.client.files.create(file=("requests.jsonl", io.BytesIO("\n".join(lines).encode())),
                                          purpose="batch")
        batch = self.client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions",
                                           completion_window=WINDOW)
        self.ledger.open_new_batch(batch.id, stage, self.model.name, [key for _, key in todo])
        raise BatchPending(stage, batch.id, batch.status, len(todo))

    def _body(self, req: Request) -> dict:
        schema = req.schema.model_json_schema()
        return {"model": self.model.model, "messages": req.messages, "temperature": 0,
                "max_tokens": self.model.max_tokens,
                "response_format": {"type": "json_schema", "json_schema": {
                    "name": req.schema.__name__, "schema": schema, "strict": False}}}

    def _fold(self, file_id: str, wanted: dict[str, Request]) -> None:
        """The batch's answers into the answer cache; an answer that does not parse as its
        schema is left out (the request goes live)."""
        text = self.client.files.content(file_id).text
        for line in text.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            req = wanted.get(item.get("custom_id", ""))
            body = (item.get("response") or {}).get("body") or {}
            if req is None or (item.get("response") or {}).get("status_code") != 200:
                continue
            content = body["choices"][0]["message"].get("content") or ""
            try:
                req.schema.model_validate_json(content)
            except ValueError:
                continue
            usage = body.get("usage") or {}
            self.ledger.cache_answer(item["custom_id"], self.model.name, req.prompt_version, content,
                                     usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))
