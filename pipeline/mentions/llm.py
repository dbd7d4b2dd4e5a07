"""Mentions on a language model: each chunk of customer text is read by the model once.

Chunks are packed into requests up to a token budget, so the fixed instructions are a small
share of what is sent; later stages work from the extracted mentions, never from the raw
corpus again. A quote is kept only where it is verbatim in its record; the rest are counted.
"""

from __future__ import annotations

import hashlib
from html import escape
from typing import Literal

from pydantic import BaseModel, Field

from valuestory import prompts
from valuestory.llm.runner import Answer, Request
from valuestory.records import Record
from valuestory.tokens import count_tokens

from ..artefacts import DecisionKind, Mention, Mentions, Phase, TouchpointDef
from ..contract import ChunkRef, Corpus
from ..grounding import locate
from ..text import customer_spans
from .cues import polarity
from .library import LIBRARY

PROMPT = "mentions.v4"
Channel = Literal["web", "email", "phone", "chat", "in person", "product", "document", "social", "unknown"]
BATCH_TOKENS = 4000  # at most this much customer text per request
MIN_TOKENS = 1500  # a request is not cut by content before it holds this much
CUT_EVERY = 2000  # past that, a cut comes on average every this many tokens (see `pack`)


class FoundMention(BaseModel):
    ref: str
    touchpoint: str = Field(min_length=2, max_length=60)
    channel: Channel = "unknown"
    quote: str = Field(min_length=3)
    sentiment: float = Field(ge=-1, le=1)
    did_job: bool | None = None
    confidence: float = Field(ge=0, le=1)
    # placed in the value story in the same read (prompt mentions.v4): the corpus is read once
    phase: Phase = "unknown"
    decision: DecisionKind | None = None


class MentionBatch(BaseModel):
    mentions: list[FoundMention]


class Unit:
    """A chunk of one record for the model to read. Its `ref` is given when it is packed into
    a request, and only means something there: a prompt must not change because other
    records were added, or the cache could not answer it again."""

    def __init__(self, record: Record, chunk: ChunkRef) -> None:
        self.record, self.chunk_id, self.start, self.end, self.batch = \
            record, chunk.chunk_id, chunk.start, chunk.end, chunk.batch
        self.ref = ""
        self.text = record.text[chunk.start:chunk.end]
        self.tokens = count_tokens(self.text)


def units(corpus: Corpus) -> list[Unit]:
    """Chunks that hold customer words, in the corpus's order (newest sources last)."""
    out = []
    for chunk in corpus.chunks:
        record = corpus.by_id.get(chunk.record_id)
        if record is not None and any(lo < chunk.end and chunk.start < hi for lo, hi in customer_spans(record)):
            out.append(Unit(record, chunk))
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
        # A record runs to the next tag; escaping keeps customer text from forging one.
        body = "\n".join(f"<{u.ref}>{escape(u.text, quote=False)}" for u in group)
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


def _quote(found: FoundMention) -> str:
    # escape() turned & < > into entities in the prompt; a model may copy either form
    return found.quote.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


def _span(found: FoundMention, unit: Unit) -> tuple[int, int] | None:
    """Where the quote lies in the customer's own words of its record (never a company turn)."""
    return locate(_quote(found), unit.record.text, (unit.start, unit.end), within=customer_spans(unit.record))


def _grounding_problems(answer: MentionBatch, by_ref: dict[str, Unit]) -> list[str]:
    problems = []
    for m in answer.mentions:
        unit = by_ref.get(m.ref)
        if unit is None:
            problems.append(f"ref {m.ref!r} is not one of the records given")
        elif _span(m, unit) is None:
            said_by_company = locate(_quote(m), unit.record.text) is not None
            problems.append(f"the quote {m.quote[:80]!r} is the company's words (an interviewer's or agent's), "
                            f"not the customer's, in record {m.ref}: quote only what the customer said"
                            if said_by_company else
                            f"the quote {m.quote[:80]!r} is not verbatim in record {m.ref}: copy the "
                            "customer's exact words")
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
    """Mentions whose quotes are verbatim in their records; the others are counted. The
    names are the coders' until the catalogue stage settles them."""
    mentions, dropped = [], 0
    for answer in answers:
        if answer.value is None:
            continue
        by_ref = answer.request.context
        for found in answer.value.mentions:
            unit = by_ref.get(found.ref)
            span = _span(found, unit) if unit else None
            if span is None:
                dropped += 1  # never shown: an ungrounded quote is counted, then forgotten
                continue
            mentions.append(Mention(
                record_id=unit.record.record_id, kind=unit.record.kind, touchpoint=found.touchpoint.strip(),
                channel=found.channel, quote=unit.record.text[span[0]:span[1]], start=span[0], end=span[1],
                sentiment=found.sentiment, polarity=polarity(found.sentiment), did_job=found.did_job,
                confidence=found.confidence, chunk_id=unit.chunk_id, engine="llm", model=answer.model,
                prompt_version=PROMPT, phase=found.phase if found.phase != "unknown" else None,
                decision=found.decision))
    return Mentions(mentions=mentions, touchpoints=seeds(corpus), dropped=dropped)
