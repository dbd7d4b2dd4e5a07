"""The mention and catalogue stages on a language model, through the runner.

Each chunk of customer text is read by the model once: chunks are packed into requests up
to a token budget, so the fixed instructions are a small share of what is sent. Later stages
work from the extracted mentions, never from the raw corpus again.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from html import escape
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from valuestory.project import Project
from valuestory.prompts import load
from valuestory.records import Record
from valuestory.tokens import count_tokens

from .cues import polarity
from .grounding import locate
from .library import LIBRARY, TouchpointDef
from .mentions import Mention, customer_spans
from .models import ChatModel
from .runner import Request, Runner

PROMPT_VERSIONS = {"mentions": "mentions.v3", "catalogue": "catalogue.v1"}
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


class MentionBatch(BaseModel):
    mentions: list[FoundMention]


class NamedGroup(BaseModel):
    group: int
    name: str = Field(min_length=2, max_length=60)
    description: str
    channel: Channel = "unknown"


class CatalogueAnswer(BaseModel):
    touchpoints: list[NamedGroup]


class Unit:
    """A chunk of one record for the model to read. Its `ref` is given when it is packed into
    a request, and only means something there: a prompt must not change because other
    records were added, or the cache could not answer it again."""

    def __init__(self, record: Record, chunk_id: str, start: int, end: int, batch: str = "") -> None:
        self.record, self.chunk_id, self.start, self.end, self.batch = record, chunk_id, start, end, batch
        self.ref = ""
        self.text = record.text[start:end]
        self.tokens = count_tokens(self.text)


def units(project: Project, records: list[Record]) -> list[Unit]:
    """Chunks that hold customer words, in record order."""
    by_id = {r.record_id: r for r in records}
    out = []
    rows = project.ledger.db.execute(
        'SELECT c.chunk_id, c.record_id, c.start, c."end", s.batch FROM chunks c JOIN records r USING (record_id) '
        "JOIN sources s ON s.path = r.source ORDER BY s.rowid, r.rowid, c.idx")  # newest sources last
    for chunk_id, record_id, start, end, batch in rows:
        record = by_id.get(record_id)
        if record is None:
            continue
        if any(lo < end and start < hi for lo, hi in customer_spans(record)):
            out.append(Unit(record, chunk_id, start, end, batch or ""))
    return out


def mention_requests(batch_units: list[list[Unit]], names: list[str]) -> list[Request]:
    system = load("mentions", 3).replace("{touchpoints}", "; ".join(names))
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
            schema=MentionBatch, prompt_version=PROMPT_VERSIONS["mentions"],
            check=lambda answer, by_ref=by_ref: _grounding_problems(answer, by_ref)))
    return requests


def seed_text(t: TouchpointDef) -> str:
    """A codebook's descriptions and examples guide the model as they guide the offline engine."""
    if t.origin != "codebook" or (t.description == t.name and not t.examples):
        return t.name
    examples = "; e.g. " + " / ".join(f'"{e}"' for e in t.examples[:3]) if t.examples else ""
    return f"{t.name} ({t.description}{examples})"


def _span(found: FoundMention, unit: Unit) -> tuple[int, int] | None:
    # escape() turned & < > into entities in the prompt; a model may copy either form
    quote = found.quote.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return locate(quote, unit.record.text, (unit.start, unit.end))


def _grounding_problems(answer: MentionBatch, by_ref: dict[str, Unit]) -> list[str]:
    problems = []
    for m in answer.mentions:
        unit = by_ref.get(m.ref)
        if unit is None:
            problems.append(f"ref {m.ref!r} is not one of the records given")
        elif _span(m, unit) is None:
            problems.append(f"the quote {m.quote[:80]!r} is not verbatim in record {m.ref}: copy the "
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


def llm_catalogue_and_mentions(project: Project, records: list[Record], model: ChatModel, run_id: str,
                               embed, codebook: list[TouchpointDef] | None,
                               on_progress: Callable[[str, int, int], None] | None = None
                               ) -> tuple[list[TouchpointDef], list[Mention], int]:
    runner = Runner(model, project.ledger, run_id, on_progress=on_progress)
    seeds = codebook or list(LIBRARY)
    groups = pack(units(project, records))
    answers = runner.run(mention_requests(groups, [seed_text(t) for t in seeds]))
    mentions, dropped = [], 0
    for group, answer in zip(groups, answers, strict=True):
        if answer.value is None:
            continue
        by_ref = {u.ref: u for u in group} | {u.ref.upper(): u for u in group}
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
                confidence=found.confidence, chunk_id=unit.chunk_id, engine="llm", model=model.name,
                prompt_version=PROMPT_VERSIONS["mentions"]))
    touchpoints, renames = catalogue(runner, mentions, seeds, embed, codebook is not None)
    for m in mentions:
        m.touchpoint = renames.get(m.touchpoint, m.touchpoint)
    return touchpoints, mentions, dropped


def catalogue(runner: Runner, mentions: list[Mention], seeds: list[TouchpointDef], embed,
              with_codebook: bool) -> tuple[list[TouchpointDef], dict[str, str]]:
    """Merge the names coders used: to a seed touchpoint when they mean it, else into groups
    of near-duplicates that the model names and describes."""
    counts = Counter(m.touchpoint for m in mentions)
    if not counts:
        return [], {}
    names = list(counts)
    vectors = embed(names)
    seed_vectors = embed([t.name for t in seeds])
    renames: dict[str, str] = {}
    seed_by_name = {t.name.lower(): t for t in seeds}
    unmatched = []
    for name, v in zip(names, vectors, strict=True):
        if name.lower() in seed_by_name:
            renames[name] = seed_by_name[name.lower()].name
            continue
        sims = seed_vectors @ v
        best = int(np.argmax(sims))
        if sims[best] >= 0.8:
            renames[name] = seeds[best].name
        else:
            unmatched.append(name)
    groups = _group(unmatched, embed)
    examples = {m.touchpoint: m.quote for m in mentions}
    new_defs = []
    if groups:
        body = "\n".join(
            f"{i}. names: {', '.join(g)} (used {sum(counts[n] for n in g)} times); example: "
            f"<quote>{escape(examples[g[0]][:200], quote=False)}</quote>" for i, g in enumerate(groups, start=1))
        [answer] = runner.run([Request(
            stage="catalogue", key="catalogue",
            messages=[{"role": "system", "content": load("catalogue", 1)}, {"role": "user", "content": body}],
            schema=CatalogueAnswer, prompt_version=PROMPT_VERSIONS["catalogue"])])
        named = {t.group: t for t in answer.value.touchpoints} if answer.value else {}
        for i, g in enumerate(groups, start=1):
            t = named.get(i)
            name = t.name.strip() if t else g[0]
            new_defs.append(TouchpointDef(name=name, channel=t.channel if t else "unknown",
                                          description=t.description if t else f"Named by coders: {', '.join(g)}",
                                          origin="emerging" if with_codebook else "discovered"))
            renames.update({n: name for n in g})
    used = {renames.get(n, n) for n in counts}
    return [t for t in seeds if t.name in used] + new_defs, renames


def _group(names: list[str], embed, threshold: float = 0.85) -> list[list[str]]:
    """Near-duplicate names together: same words ignoring case and plurals, or very close in meaning."""
    if not names:
        return []
    key = {n: " ".join(re.sub(r"s\b", "", w) for w in re.findall(r"[a-z0-9]+", n.lower())) for n in names}
    vectors = embed(names)
    groups: list[list[str]] = []
    owner: dict[int, int] = {}
    for i, n in enumerate(names):
        for j in range(i):
            if key[n] == key[names[j]] or float(vectors[i] @ vectors[j]) >= threshold:
                owner[i] = owner[j]
                groups[owner[j]].append(n)
                break
        else:
            owner[i] = len(groups)
            groups.append([n])
    return groups


def plan(project: Project, records: list[Record], codebook: list[TouchpointDef] | None,
         model_name: str) -> dict:
    """What a run would send, without sending it: calls and input tokens of the mention
    stage (the catalogue stage adds one small call), and how many are cached already."""
    seeds = codebook or list(LIBRARY)
    all_units = units(project, records)
    requests = mention_requests(pack(all_units), [seed_text(t) for t in seeds])
    todo = [r for r in requests if not project.ledger.cached(r.cache_key(model_name))]
    return {"calls": len(requests), "cached": len(requests) - len(todo),
            "tokens_in": sum(count_tokens(m["content"]) for r in todo for m in r.messages),
            "corpus_tokens": sum(u.tokens for u in all_units)}



