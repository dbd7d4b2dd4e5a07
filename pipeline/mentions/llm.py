"""Mentions on a language model: each chunk of customer text is read by the model once.

Chunks are packed into requests up to a token budget, so the fixed instructions are a small
share of what is sent; later stages work from the extracted mentions, never from the raw
corpus again. The customer's clauses are numbered in the request and the model quotes by
number: a quote is then a span of the record by construction, in the customer's voice, and
the model spends no output copying words. A number the record does not hold is re-asked.
"""

from __future__ import annotations

import hashlib
import re
from html import escape
from typing import Literal

from pydantic import BaseModel, Field

from valuestory import prompts
from valuestory.llm.runner import Answer, Request
from valuestory.records import Record
from valuestory.tokens import count_tokens

from ..artefacts import DecisionKind, Mention, Mentions, Phase, TouchpointDef
from ..contract import ChunkRef, Corpus
from ..text import clauses, customer_spans
from .cues import polarity
from .library import LIBRARY

PROMPT = "mentions.v5"
Channel = Literal["web", "email", "phone", "chat", "in person", "product", "document", "social", "unknown"]
BATCH_TOKENS = 4000  # at most this much customer text per request
MIN_TOKENS = 1500  # a request is not cut by content before it holds this much
CUT_EVERY = 2000  # past that, a cut comes on average every this many tokens (see `pack`)
MARK = "[{}] "  # before each numbered clause: 3 tokens ("[n]" without the space costs more)
FORGED_MARK = re.compile(r"\[(\d+)\]")  # a record's own "[3]" must not pass for a clause number


class FoundMention(BaseModel):
    ref: str
    says: list[int] = Field(min_length=1, max_length=12)  # the numbers of the clauses quoted
    touchpoint: str = Field(min_length=2, max_length=60)
    sentiment: float = Field(ge=-1, le=1)
    confidence: float = Field(ge=0, le=1)
    channel: Channel = "unknown"
    did_job: bool | None = None
    # placed in the value story in the same read (prompt mentions.v4 on): the corpus is read once
    phase: Phase = "unknown"
    decision: DecisionKind | None = None


class MentionBatch(BaseModel):
    mentions: list[FoundMention]


class Unit:
    """A chunk of one record for the model to read, its customer clauses numbered from 1 (the
    company's words are shown for context, unnumbered). Its `ref` is given when it is packed
    into a request, and only means something there: a prompt must not change because other
    records were added, or the cache could not answer it again."""

    def __init__(self, record: Record, chunk: ChunkRef) -> None:
        self.record, self.chunk_id, self.start, self.end, self.batch = \
            record, chunk.chunk_id, chunk.start, chunk.end, chunk.batch
        self.ref = ""
        self.clauses = [(max(c.start, self.start), min(c.end, self.end)) for c in clauses(record)
                        if c.start < self.end and self.start < c.end]
        self.turn_of = [next((k for k, (lo, hi) in enumerate(customer_spans(record)) if lo <= a and b <= hi), -1)
                        for a, b in self.clauses]
        self.text = self._numbered()
        # the budget is of customer text: the numbers would otherwise move where requests end
        self.tokens = count_tokens(record.text[self.start:self.end])

    def _numbered(self) -> str:
        text, out, at = self.record.text, [], self.start
        for n, (a, b) in enumerate(self.clauses, start=1):
            out += [_shown(text[at:a]), MARK.format(n), _shown(text[a:b])]
            at = b
        out.append(_shown(text[at:self.end]))
        return "".join(out)

    def span(self, says: list[int]) -> tuple[int, int] | None:
        """The record span of the first run of consecutive clauses named, within one turn."""
        wanted = sorted(set(says))
        if not wanted or wanted[0] < 1 or wanted[-1] > len(self.clauses):
            return None
        first = last = wanted[0]
        for n in wanted[1:]:
            if n != last + 1 or self.turn_of[n - 1] != self.turn_of[first - 1]:
                break
            last = n
        return self.clauses[first - 1][0], self.clauses[last - 1][1]


def _shown(text: str) -> str:
    # Escaping keeps customer text from forging a record tag, the brackets from forging a number.
    return FORGED_MARK.sub(r"(\1)", escape(text, quote=False))


def units(corpus: Corpus) -> list[Unit]:
    """Chunks that hold customer words, in the corpus's order (newest sources last)."""
    out = []
    for chunk in corpus.chunks:
        record = corpus.by_id.get(chunk.record_id)
        if record is not None and any(lo < chunk.end and chunk.start < hi for lo, hi in customer_spans(record)):
            unit = Unit(record, chunk)
            if unit.clauses:
                out.append(unit)
    return out


def seeds(corpus: Corpus) -> list[TouchpointDef]:
    """The names a model is offered: the codebook's, else the library's."""
    return list(corpus.codebook) if corpus.codebook else list(LIBRARY)


def mention_requests(batch_units: list[list[Unit]], names: list[str]) -> list[Request]:
    system = prompts.render(PROMPT, touchpoints="; ".join(names))
    requests = []
    for group in batch_units:
        for n, u in enumerate(group, start=1):
            u.ref = f"r{n}"
        body = "\n".join(f"<{u.ref}>{u.text}" for u in group)  # a record runs to the next tag
        by_ref = {u.ref: u for u in group} | {u.ref.upper(): u for u in group}
        requests.append(Request(
            stage="mentions", key=",".join(u.chunk_id for u in group),
            messages=[{"role": "system", "content": system}, {"role": "user", "content": body}],
            schema=MentionBatch, prompt_version=PROMPT, context=by_ref,
            check=lambda answer, by_ref=by_ref: _grounding_problems(answer, by_ref)))
    return requests


def seed_text(t: TouchpointDef) -> str:
    """A codebook's descriptions and examples guide the model as they guide the offline engine."""
    if t.origin != "codebook" or (t.description == t.name and not t.examples):
        return t.name
    examples = "; e.g. " + " / ".join(f'"{e}"' for e in t.examples[:3]) if t.examples else ""
    return f"{t.name} ({t.description}{examples})"


def _grounding_problems(answer: MentionBatch, by_ref: dict[str, Unit]) -> list[str]:
    problems = []
    for m in answer.mentions:
        unit = by_ref.get(m.ref)
        if unit is None:
            problems.append(f"ref {m.ref!r} is not one of the records given")
        elif unit.span(m.says) is None:
            problems.append(f"record {m.ref} has clauses [1] to [{len(unit.clauses)}]; {m.says} names others: "
                            "give the numbers shown before the customer's words")
    return problems


def _cut_before(u: Unit) -> bool:
    """Whether a request ends before this chunk, decided by the chunk's own id: the ends stay
    where they are when records are added elsewhere (content-defined chunking)."""
    h = int(hashlib.sha1(u.chunk_id.encode()).hexdigest()[:8], 16) % CUT_EVERY
    return h < u.tokens


def pack(all_units: list[Unit], budget: int = BATCH_TOKENS) -> list[list[Unit]]:
    """Requests of up to `budget` tokens of customer text, large enough that the fixed
    instructions are a small share of what is sent. Where one request ends is decided by
    content, not by position, and files ingested by a later command start requests of their
    own: new records make new requests and leave the cached ones as they were."""
    groups: list[list[Unit]] = []
    size = 0
    for u in all_units:
        if groups and size + u.tokens <= budget and (size < MIN_TOKENS or not _cut_before(u)) \
                and u.batch == groups[-1][-1].batch:
            groups[-1].append(u)
            size += u.tokens
        else:
            groups.append([u])
            size = u.tokens
    return groups


def requests(corpus: Corpus) -> list[Request]:
    return mention_requests(pack(units(corpus)), [seed_text(t) for t in seeds(corpus)])


def parse(answers: list[Answer], fallback, corpus: Corpus) -> Mentions:
    """Mentions quoting the clauses they name; those naming none of their record's are
    counted. The names are the coders' until the catalogue stage settles them."""
    mentions, dropped = [], 0
    for answer in answers:
        if answer.value is None:
            continue
        by_ref = answer.request.context
        for found in answer.value.mentions:
            unit = by_ref.get(found.ref)
            span = unit.span(found.says) if unit else None
            if span is None:
                dropped += 1  # never shown: a quote of nothing is counted, then forgotten
                continue
            mentions.append(Mention(
                record_id=unit.record.record_id, kind=unit.record.kind, touchpoint=found.touchpoint.strip(),
                channel=found.channel, quote=unit.record.text[span[0]:span[1]], start=span[0], end=span[1],
                sentiment=found.sentiment, polarity=polarity(found.sentiment), did_job=found.did_job,
                confidence=found.confidence, chunk_id=unit.chunk_id, engine="llm", model=answer.model,
                prompt_version=PROMPT, phase=found.phase if found.phase != "unknown" else None,
                decision=found.decision))
    return Mentions(mentions=mentions, touchpoints=seeds(corpus), dropped=dropped)
