"""Mentions on a language model: each chunk of customer text is read by the model once.

Chunks are packed into requests up to a token budget, so the fixed instructions are a small
share of what is sent; later stages work from the extracted mentions, never from the raw
corpus again. The customer's clauses are numbered across the request and the model quotes by
number: a quote is then a span of its record by construction, in the customer's voice, and
the model spends no output copying words or naming records. A number the request does not
hold is re-asked.
"""

from __future__ import annotations

import hashlib
import re
from html import escape
from typing import Literal

from pydantic import BaseModel, Field

from valuestory import prompts
from valuestory.config import REQUEST_TOKENS
from valuestory.llm.runner import Answer, Request
from valuestory.records import Record
from valuestory.tokens import count_tokens

from ..artefacts import DecisionKind, Mention, Mentions, Phase, TouchpointDef
from ..contract import ChunkRef, Corpus
from ..text import clauses, customer_spans, sentences
from .cues import polarity
from .library import LIBRARY

PROMPT = "mentions.v6"
Channel = Literal["web", "email", "phone", "chat", "in person", "product", "document", "social", "unknown"]
# A request is not cut by content before it holds this share of its budget; past that, a cut
# comes on average every CUT_EVERY of the budget (see `pack`).
MIN_SHARE, CUT_EVERY = 0.375, 0.5
MARK = "|{} "  # before each numbered clause: 2 tokens ("[n] " costs 3, which was 0.08x the corpus)
CUT = "… "  # where a company turn's first sentences are left out
SEPARATOR = "\n\n"  # between records: 1 token ("\n---\n" cost 3); a record's own blank lines are folded
BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")
FORGED_MARK = re.compile(r"\|(?=\s*\d)")  # a record's own "|3" must not pass for a clause number


class FoundMention(BaseModel):
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
    """A chunk of one record for the model to read: its customer clauses numbered, the
    company's words shown unnumbered for context (a company turn of several sentences cut to
    its last one, the question or answer a customer replies to), speakers labelled C1, C2…
    (customers) and S1, S2… (staff)."""

    def __init__(self, record: Record, chunk: ChunkRef) -> None:
        self.record, self.chunk_id, self.start, self.end, self.batch = \
            record, chunk.chunk_id, chunk.start, chunk.end, chunk.batch
        self.clauses = [(max(c.start, self.start), min(c.end, self.end)) for c in clauses(record)
                        if c.start < self.end and self.start < c.end]
        self.turn_of = [next((k for k, (lo, hi) in enumerate(customer_spans(record)) if lo <= a and b <= hi), -1)
                        for a, b in self.clauses]
        self.edits: list[tuple[int, int, str]] = []  # (start, end, shown instead)
        short: dict[str, str] = {}
        for t in record.turns:
            if not (t.start < self.end and self.start < t.end):
                continue
            label_at = record.text.rfind("\n", 0, t.start) + 1
            if self.start <= label_at and record.text[label_at:t.start] == f"{t.speaker}: ":
                # a pseudonym label ("Customer-D85AEB: ") costs tokens on every turn; who speaks is what counts
                side = "S" if t.role == "company" else "C"
                short.setdefault(t.speaker, f"{side}{sum(v[0] == side for v in short.values()) + 1}")
                self.edits.append((label_at, t.start, f"{short[t.speaker]}: "))
            if t.role == "company":
                said = sentences(record.text, max(t.start, self.start), min(t.end, self.end))
                if len(said) > 1:  # a company turn shortened to its last sentence
                    self.edits.append((said[0][0], said[-1][0], CUT))
        # the budget is of the record's text: numbering and cuts do not move where requests end
        self.tokens = count_tokens(record.text[self.start:self.end])

    def render(self, first: int) -> str:
        """The chunk as the model reads it, its clauses numbered from `first`."""
        text = self.record.text
        edits = sorted([(a, a, MARK.format(first + k)) for k, (a, _) in enumerate(self.clauses)] + self.edits)
        out, at = [], self.start
        for a, b, put in edits:
            out += [_shown(text[at:a]), put]
            at = b
        out.append(_shown(text[at:self.end]))
        return "".join(out)

    def span(self, local: list[int]) -> tuple[int, int] | None:
        """The record span of the first run of consecutive clauses named (numbered from 1
        within this chunk), within one turn."""
        wanted = sorted(set(local))
        if not wanted or wanted[0] < 1 or wanted[-1] > len(self.clauses):
            return None
        first = last = wanted[0]
        for n in wanted[1:]:
            if n != last + 1 or self.turn_of[n - 1] != self.turn_of[first - 1]:
                break
            last = n
        return self.clauses[first - 1][0], self.clauses[last - 1][1]


class Numbered:
    """The units of one request with their clauses numbered across it, [1] to [total]."""

    def __init__(self, group: list[Unit]) -> None:
        self.units, self.firsts, n = group, [], 1
        for u in group:
            self.firsts.append(n)
            n += len(u.clauses)
        self.total = n - 1

    @property
    def record_ids(self) -> set[str]:
        return {u.record.record_id for u in self.units}

    def body(self) -> str:
        # the chunks of one record follow each other: they read on as one record
        out = []
        for k, (u, first) in enumerate(zip(self.units, self.firsts, strict=True)):
            if k:
                out.append("\n" if u.record is self.units[k - 1].record else SEPARATOR)
            out.append(u.render(first))
        return "".join(out)

    def locate(self, says: list[int]) -> tuple[Unit, tuple[int, int]] | None:
        """The unit of the first number named and the span of its clauses named; None if a
        number is not in the request."""
        if not says or min(says) < 1 or max(says) > self.total:
            return None
        k = max(i for i, first in enumerate(self.firsts) if first <= min(says))
        unit, first = self.units[k], self.firsts[k]
        span = unit.span([n - first + 1 for n in says if first <= n < first + len(unit.clauses)])
        return (unit, span) if span else None


def _shown(text: str) -> str:
    # Escaping keeps customer text from forging markup, a bar from forging a number, a blank
    # line from passing for the end of its record.
    return BLANK_LINES.sub("\n", FORGED_MARK.sub("¦", escape(text, quote=False)))


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
        numbered = Numbered(group)
        requests.append(Request(
            stage="mentions", key=",".join(u.chunk_id for u in group),
            messages=[{"role": "system", "content": system}, {"role": "user", "content": numbered.body()}],
            schema=MentionBatch, prompt_version=PROMPT, context=numbered,
            check=lambda answer, numbered=numbered: _grounding_problems(answer, numbered)))
    return requests


def seed_text(t: TouchpointDef) -> str:
    """A codebook's descriptions and examples guide the model as they guide the offline engine."""
    if t.origin != "codebook" or (t.description == t.name and not t.examples):
        return t.name
    examples = "; e.g. " + " / ".join(f'"{e}"' for e in t.examples[:3]) if t.examples else ""
    return f"{t.name} ({t.description}{examples})"


def _grounding_problems(answer: MentionBatch, numbered: Numbered) -> list[str]:
    return [f"{m.says} names clauses this request does not have: the clauses are numbered |1 to "
            f"|{numbered.total}; give the numbers shown before the customer's words"
            for m in answer.mentions if numbered.locate(m.says) is None]


def _cut_before(u: Unit, every: int) -> bool:
    """Whether a request ends before this chunk, decided by the chunk's own id: the ends stay
    where they are when records are added elsewhere (content-defined chunking)."""
    h = int(hashlib.sha1(u.chunk_id.encode()).hexdigest()[:8], 16) % max(1, every)
    return h < u.tokens


def pack(all_units: list[Unit], budget: int = REQUEST_TOKENS) -> list[list[Unit]]:
    """Requests of up to `budget` tokens of customer text (`[run] request_tokens`), large
    enough that the fixed instructions are a small share of what is sent. Where one request
    ends is decided by content, not by position, and files ingested by a later command start
    requests of their own: new records make new requests and leave the cached ones as they were."""
    groups: list[list[Unit]] = []
    size, least, every = 0, int(budget * MIN_SHARE), int(budget * CUT_EVERY)
    for u in all_units:
        if groups and size + u.tokens <= budget and (size < least or not _cut_before(u, every)) \
                and u.batch == groups[-1][-1].batch:
            groups[-1].append(u)
            size += u.tokens
        else:
            groups.append([u])
            size = u.tokens
    return groups


def requests(corpus: Corpus) -> list[Request]:
    return mention_requests(pack(units(corpus), corpus.request_tokens), [seed_text(t) for t in seeds(corpus)])


def parse(answers: list[Answer], fallback, corpus: Corpus) -> Mentions:
    """Mentions quoting the clauses they name; those naming none of their record's are
    counted. The names are the coders' until the catalogue stage settles them."""
    mentions, dropped = [], 0
    for answer in answers:
        if answer.value is None:
            continue
        numbered: Numbered = answer.request.context
        for found in answer.value.mentions:
            located = numbered.locate(found.says)
            if located is None:
                dropped += 1  # never shown: a quote of nothing is counted, then forgotten
                continue
            unit, span = located
            mentions.append(Mention(
                record_id=unit.record.record_id, kind=unit.record.kind, touchpoint=found.touchpoint.strip(),
                channel=found.channel, quote=unit.record.text[span[0]:span[1]], start=span[0], end=span[1],
                sentiment=found.sentiment, polarity=polarity(found.sentiment), did_job=found.did_job,
                confidence=found.confidence, chunk_id=unit.chunk_id, engine="llm", model=answer.model,
                prompt_version=PROMPT, phase=found.phase if found.phase != "unknown" else None,
                decision=found.decision))
    return Mentions(mentions=mentions, touchpoints=seeds(corpus), dropped=dropped)
