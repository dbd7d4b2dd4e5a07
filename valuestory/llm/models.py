"""Chat models behind one small interface; the runner does everything else.

`--llm` picks one: `openai:MODEL` (OPENAI_API_KEY), `compat:MODEL@URL` for any
OpenAI-compatible endpoint (VALUESTORY_COMPAT_API_KEY, if it needs a key), or `offline`, the
embedded engine with no generative model.
Structured output is asked for natively (json_schema); where an endpoint refuses that, the
model falls back to JSON mode, then to tool calling, and says which mode it used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from valuestory.errors import ValuestoryError
from valuestory.registry import Registry

MODES = ("json_schema", "json_object", "tools")


@dataclass
class Completion:
    text: str  # the JSON answer, whichever mode carried it
    tokens_in: int
    tokens_out: int
    mode: str
    tokens_cached: int = 0  # of tokens_in, served by the provider's prompt cache


class TransientError(Exception):
    """Worth retrying after a pause: rate limits, timeouts, server errors, lost connections.
    `retry_after` is the pause the server asked for (its Retry-After header), in seconds;
    `unreachable` says the endpoint did not answer at all (nothing listening, no route)."""

    def __init__(self, message: str, retry_after: float | None = None, unreachable: bool = False) -> None:
        super().__init__(message)
        self.retry_after, self.unreachable = retry_after, unreachable


def retry_after(exc: Exception) -> float | None:
    """The seconds a server's Retry-After header asks for (delta-seconds form), if it sent one."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    try:
        value = float(headers.get("retry-after", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


class ChatModel(Protocol):
    name: str

    def complete(self, messages: list[dict], schema: dict, schema_name: str) -> Completion: ...


providers: Registry[Callable[[str], ChatModel]] = Registry("model provider", "valuestory.models")
COMPAT_KEY = "VALUESTORY_COMPAT_API_KEY"  # the key a compat: endpoint gets, if it needs one


class MissingKey(ValuestoryError):
    def __init__(self, name: str) -> None:
        super().__init__("openai:MODEL needs OPENAI_API_KEY in the environment; use --llm offline, "
                         "or compat:MODEL@URL for a local server")
        self.name = name


@dataclass(frozen=True)
class Unsent:
    """A model known by its name only: enough for a dry run to price, before any key is set."""

    name: str

    def complete(self, messages: list[dict], schema: dict, schema_name: str) -> Completion:
        raise ValuestoryError(f"{self.name} is planned, never asked: set its API key to run it")


@dataclass
class OpenAIChat:
    """OpenAI or any compatible endpoint, through langchain-openai."""

    model: str
    base_url: str | None = None
    name: str = ""
    mode: str = "json_schema"
    timeout: float = 120.0
    max_tokens: int = 4096
    client: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from langchain_openai import ChatOpenAI
        # The user's OpenAI key goes to OpenAI only: a compatible endpoint (a local server, a
        # third-party gateway) gets its own key, or none.
        key = os.environ.get(COMPAT_KEY if self.base_url else "OPENAI_API_KEY")
        if not key and not self.base_url:
            raise MissingKey(f"openai:{self.model}")
        self.name = self.name or (f"compat:{self.model}@{self.base_url}" if self.base_url else f"openai:{self.model}")
        # Retries are the runner's: it backs off and counts them in the call log.
        # langchain sends the limit as max_completion_tokens, which compatible servers such as
        # llama.cpp ignore; they get the older max_tokens.
        limit = {"extra_body": {"max_tokens": self.max_tokens}} if self.base_url else {"max_tokens": self.max_tokens}
        self.client = ChatOpenAI(model=self.model, base_url=self.base_url, api_key=key or "not-needed",
                                 max_retries=0, timeout=self.timeout, temperature=0, **limit)

    def complete(self, messages: list[dict], schema: dict, schema_name: str) -> Completion:
        import openai
        while True:
            try:
                return self._complete(messages, schema, schema_name)
            except (openai.BadRequestError, openai.UnprocessableEntityError, openai.InternalServerError) as exc:
                # Servers refuse an unknown response_format with 400, 422 or even 500.
                if self.mode != MODES[-1] and _rejects_format(exc):
                    self.mode = MODES[MODES.index(self.mode) + 1]  # and remember it for the next call
                    continue
                if isinstance(exc, openai.InternalServerError):
                    raise TransientError(str(exc), retry_after(exc)) from exc
                raise
            except openai.APITimeoutError as exc:  # a subclass of APIConnectionError: the server was there
                raise TransientError(str(exc)) from exc
            except openai.APIConnectionError as exc:
                raise TransientError(str(exc), unreachable=True) from exc
            except openai.RateLimitError as exc:
                raise TransientError(str(exc), retry_after(exc)) from exc
            except openai.LengthFinishReasonError as exc:
                # Cut off at the token limit: the half answer goes back as invalid, to re-ask.
                usage, choice = exc.completion.usage, exc.completion.choices[0]
                return Completion(choice.message.content or "", usage.prompt_tokens if usage else 0,
                                  usage.completion_tokens if usage else 0, self.mode)

    def _complete(self, messages: list[dict], schema: dict, schema_name: str) -> Completion:
        llm = self.client
        if self.mode == "json_schema":
            llm = llm.bind(response_format={"type": "json_schema", "json_schema": {
                "name": schema_name, "schema": schema, "strict": False}})
        elif self.mode == "json_object":
            # Compatible servers (llama.cpp) constrain JSON mode by a schema; OpenAI takes none.
            fmt = {"type": "json_object", **({"schema": schema} if self.base_url else {})}
            llm = llm.bind(response_format=fmt)
            messages = _with_schema(messages, schema)
        else:
            llm = llm.bind_tools([{"type": "function", "function": {
                "name": schema_name, "description": "Record the answer", "parameters": schema}}],
                tool_choice={"type": "function", "function": {"name": schema_name}})
            messages = _with_schema(messages, schema)
        reply = llm.invoke([(m["role"], m["content"]) for m in messages])
        text = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
        if self.mode == "tools" and reply.tool_calls:
            text = json.dumps(reply.tool_calls[0]["args"])
        usage = reply.usage_metadata or {}
        cached = (usage.get("input_token_details") or {}).get("cache_read") or 0
        return Completion(text, usage.get("input_tokens", 0), usage.get("output_tokens", 0), self.mode, cached)


def _rejects_format(exc: Exception) -> bool:
    """Whether the server refused the structured-output mode (not just failed): a 400 or 422
    naming it; a 500 only when it names response_format or json_schema, so that a transient
    server error that happens to say "function" does not switch the run to tool calling."""
    import openai
    text = str(exc).lower()
    words = ("response_format", "json_schema") if isinstance(exc, openai.InternalServerError) else \
        ("response_format", "json_schema", "tool", "function", "not supported")
    return any(w in text for w in words)


def _with_schema(messages: list[dict], schema: dict) -> list[dict]:
    """Without native structured output the schema has to travel in the instructions."""
    note = "Answer with one JSON object only, valid against this JSON schema:\n" + json.dumps(schema)
    return [{**messages[0], "content": messages[0]["content"] + "\n\n" + note}, *messages[1:]]


@providers.register("openai")
def _openai(arg: str) -> ChatModel:
    return OpenAIChat(model=arg or "gpt-4o-mini")


@providers.register("compat")
def _compat(arg: str) -> ChatModel:
    model, sep, url = arg.partition("@")
    if not sep or not url:
        raise ValuestoryError(f"compat:{arg}: write compat:MODEL@URL, e.g. compat:llama3@http://127.0.0.1:8080/v1")
    return OpenAIChat(model=model, base_url=url)


def make_model(spec: str) -> ChatModel | None:
    """The model for an --llm spec; None for the offline engine."""
    if spec in ("", "offline"):
        return None
    name, _, arg = spec.partition(":")
    return providers.get(name)(arg)
