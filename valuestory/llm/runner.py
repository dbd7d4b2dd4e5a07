"""The stage runner: the one place where model calls happen.

A stage builds `Request`s from typed inputs and reads typed answers; the runner does the I/O:
bounded concurrency, backoff on rate limits, timeouts and server errors (as long as a
server's Retry-After asks, up to MAX_RETRY_AFTER), a circuit breaker that stops asking an
endpoint that does not answer at all (BREAKER failures in a row), validation errors sent back
to the model for a bounded number of re-asks, a content-addressed cache (model, prompt
template and the hash of its file, rendered prompt, schema, parameters) that keeps only
answers that passed every check, a log of every call, and the price of requests not yet sent
(`plan`).
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from valuestory import prompts
from valuestory.stores.ledger import Ledger
from valuestory.tokens import count_tokens

from .costs import OUTPUT_SHARE, Cost, cached_prefixes
from .models import ChatModel, Completion, TransientError

PARAMS = {"temperature": 0}
MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is waited this long, then retried as usual
BREAKER = 3  # connection failures in a row after which the endpoint is taken as down


@dataclass
class Request:
    stage: str
    key: str  # the stage's own name for it, e.g. the batch of chunks it covers
    messages: list[dict]
    schema: type[BaseModel]
    prompt_version: str  # the template's file name, e.g. "mentions.v3"
    # Checks beyond the schema (e.g. quotes verbatim in their records); problems are sent
    # back to the model like validation errors.
    check: Callable[[BaseModel], list[str]] | None = None
    context: Any = None  # what the stage needs to read the answer (which record each tag is)

    def cache_key(self, model: str) -> str:
        blob = json.dumps({"model": model, "prompt": self.prompt_version,
                           "template": prompts.digest(self.prompt_version), "messages": self.messages,
                           "schema": self.schema.model_json_schema(), "params": PARAMS}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def tokens(self) -> int:
        return sum(count_tokens(m["content"]) for m in self.messages)


@dataclass
class Answer:
    request: Request
    value: BaseModel | None = None
    cache_hit: bool = False
    problems: list[str] = field(default_factory=list)  # left after the re-asks
    error: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int = 0  # of tokens_in, served by the provider's prompt cache
    attempts: int = 0
    mode: str = ""
    latency: float = 0.0
    raw: str = ""
    model: str = ""  # the model that answered
    unanswered: bool = False  # the call itself failed (after its retries): nothing came back to judge


class Runner:
    def __init__(self, model: ChatModel, ledger: Ledger, run_id: str, *, concurrency: int = 4,
                 retries: int = 5, reasks: int = 2, backoff: float = 1.0,
                 on_progress: Callable[[str, int, int], None] | None = None, batcher=None) -> None:
        self.model, self.ledger, self.run_id = model, ledger, run_id
        self.batcher = batcher  # llm.batch.Batcher: uncached requests go out as a batch first
        self.concurrency, self.retries, self.reasks, self.backoff = concurrency, retries, reasks, backoff
        self.on_progress = on_progress
        self._unreachable, self._lock = 0, threading.Lock()  # the circuit breaker's count

    def run(self, requests: list[Request]) -> list[Answer]:
        """Answers in the order of the requests. Cached answers cost nothing; the rest go to
        the model. Database writes stay on this thread."""
        answers: list[Answer | None] = [None] * len(requests)
        todo: list[tuple[int, str]] = []
        for i, req in enumerate(requests):
            key = req.cache_key(self.model.name)
            hit = self.ledger.cached(key)
            answer = self._from_cache(req, *hit) if hit else None
            if answer is not None:
                answers[i] = answer
                self._log(answer)
            else:
                if hit:  # an entry that no longer parses or passes its checks is never used
                    self.ledger.forget_cached(key)
                todo.append((i, key))
        stage = requests[0].stage if requests else ""
        if self.batcher is not None and todo:
            self.batcher.settle(stage, [(requests[i], key) for i, key in todo])  # or raises BatchPending
            still = []
            for i, key in todo:  # the batch's answers are in the cache now
                hit = self.ledger.cached(key)
                if hit and (answer := self._from_cache(requests[i], *hit)) is not None:
                    answers[i] = answer
                    self._log(answer)
                else:
                    still.append((i, key))
            todo = still
        done = len(requests) - len(todo)
        self._progress(stage, done, len(requests))
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {pool.submit(self._ask, requests[i]): (i, key) for i, key in todo}
            for future in as_completed(futures):
                i, key = futures[future]
                answer = future.result()
                answers[i] = answer
                if answer.value is not None and not answer.problems and answer.error is None:
                    self.ledger.cache_answer(key, self.model.name, answer.request.prompt_version,
                                             answer.raw, answer.tokens_in, answer.tokens_out)
                self._log(answer)
                done += 1
                self._progress(stage, done, len(requests))
        return answers  # type: ignore[return-value]

    def plan(self, requests: list[Request]) -> dict:
        """What these requests would cost, without sending them: calls, how many the cache
        answers, input tokens to send (and how many of them a provider's prompt caching would
        serve), and a price where the model's is known."""
        todo = [r for r in requests if not self.ledger.cached(r.cache_key(self.model.name))]
        tokens = sum(r.tokens() for r in todo)
        cached = sum(cached_prefixes([r.messages for r in todo]))
        cost = Cost(tokens, cached, round(tokens * OUTPUT_SHARE))
        price = cost.price(self.model.name) if self.model.name.startswith("openai:") else None
        return {"calls": len(requests), "cached": len(requests) - len(todo), "tokens_in": tokens,
                "prompt_cached": cached, "cost": price}

    def _progress(self, stage: str, done: int, total: int) -> None:
        if self.on_progress:
            self.on_progress(stage, done, total)

    def _log(self, a: Answer) -> None:
        self.ledger.log_call(self.run_id, a.request.stage, self.model.name, a.mode, a.tokens_in,
                             a.tokens_out, a.latency, a.cache_hit, a.attempts, a.error, a.tokens_cached)

    def _from_cache(self, req: Request, raw: str, tokens_in: int, tokens_out: int) -> Answer | None:
        """The cached answer, if it still parses and passes every check; else None (ask again)."""
        try:
            value = req.schema.model_validate_json(raw)
        except ValidationError:
            return None
        if req.check and req.check(value):
            return None
        return Answer(req, value, cache_hit=True, raw=raw, mode="cache", model=self.model.name)

    def _call(self, messages: list[dict], req: Request, answer: Answer) -> Completion:
        """One completion, waiting out transient failures with exponential backoff."""
        schema = req.schema.model_json_schema()
        for attempt in range(self.retries + 1):
            if self._unreachable >= BREAKER:
                raise TransientError(f"the endpoint did not answer {BREAKER} times in a row: not asking it again "
                                     "in this run", unreachable=True)
            answer.attempts += 1
            try:
                completion = self.model.complete(messages, schema, req.schema.__name__)
            except TransientError as exc:
                with self._lock:
                    self._unreachable = self._unreachable + 1 if exc.unreachable else 0
                if attempt == self.retries:
                    raise
                pause = self.backoff * 2 ** attempt * (0.5 + random.random())
                time.sleep(max(pause, min(exc.retry_after or 0.0, MAX_RETRY_AFTER)))
            else:
                with self._lock:
                    self._unreachable = 0
                return completion
        raise AssertionError("unreachable")

    def _ask(self, req: Request) -> Answer:
        answer = Answer(req, model=self.model.name)
        messages = list(req.messages)
        start = time.perf_counter()
        try:
            for reask in range(self.reasks + 1):
                completion = self._call(messages, req, answer)
                answer.tokens_in += completion.tokens_in
                answer.tokens_out += completion.tokens_out
                answer.tokens_cached += completion.tokens_cached
                answer.mode = completion.mode
                try:
                    value = req.schema.model_validate_json(_json_part(completion.text))
                except ValidationError as exc:
                    problems = [f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors()[:10]]
                    value = None
                else:
                    problems = req.check(value) if req.check else []
                    answer.value, answer.raw = value, value.model_dump_json()
                if not problems:
                    answer.problems = []
                    break
                answer.problems = problems
                if reask < self.reasks:
                    messages = messages + [
                        {"role": "assistant", "content": completion.text},
                        {"role": "user", "content": "Your answer has problems:\n- " + "\n- ".join(problems)
                         + "\nAnswer again with the whole corrected JSON object."}]
            if answer.value is None:
                answer.error = "invalid answer after re-asks: " + "; ".join(answer.problems[:3])
        except Exception as exc:  # logged and counted here; the run decides what a missing answer means
            answer.error, answer.unanswered = f"{type(exc).__name__}: {exc}"[:500], True
        answer.latency = time.perf_counter() - start
        return answer


def _json_part(text: str) -> str:
    """Models without native structured output wrap JSON in prose or code fences."""
    text = text.strip()
    if text.startswith("{"):
        return text
    start, end = text.find("{"), text.rfind("}")
    return text[start:end + 1] if 0 <= start < end else text
