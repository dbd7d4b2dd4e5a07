"""The stage contract.

A stage is one step of the method: a name, the artefacts it needs (by name: `corpus`, or the
name of an earlier stage), the artefact type it produces and a version. It has an offline
implementation, and where a model can do better, a model engine beside it: two pure
functions, one building requests from the same inputs, one parsing the answers into the
same artefact, with the offline implementation as the fallback for whatever the model could
not do. A stage never touches a database, a file, the network or the vector store: it reads
a `Corpus`, a read-only value the run builds from the stores (and a test from memory).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from pydantic import BaseModel

from valuestory.config import REQUEST_TOKENS, PersonaSection
from valuestory.llm.runner import Answer, Request
from valuestory.records import Record
from valuestory.registry import Registry

from .artefacts import TouchpointDef
from .recode import Recode
from .text import customer_spans, passage_around, sentences

Embed = Callable[[list[str]], np.ndarray]
PASSAGE_CHARS = 200  # a passage shown to a model: a sentence or a few, never a whole record


@dataclass(frozen=True)
class Passage:
    record_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class ChunkRef:
    """A stored chunk of a record: what a model reads at a time. `batch` names the ingest
    command that stored it, so that later files start requests of their own."""
    chunk_id: str
    record_id: str
    start: int
    end: int
    batch: str = ""


@dataclass(frozen=True)
class StoredChunks:
    """The stored chunks, read afresh each time they are gone through (`rows` gives their
    fields in the store's order): a run that never reads them (an offline one, but for the
    corpus's hash) holds none, where a million chunks held would be some 300 MiB."""
    rows: Callable[[], Iterable[tuple]]

    def __iter__(self) -> Iterator[ChunkRef]:
        return (ChunkRef(*row) for row in self.rows())


# The nearest chunks to a question among some records: [(chunk_id, record_id, start, end)].
NearestChunks = Callable[[np.ndarray, Sequence[str], int], list[tuple[str, str, int, int]]]


@dataclass(frozen=True)
class Corpus:
    """What the stages read: the records, the chunks a model reads, an embedding function and
    the nearest chunks to a question (from the vector store in a run, brute force in tests),
    the user's codebook and declared personas."""
    records: tuple[Record, ...]
    embed: Embed
    chunks: tuple[ChunkRef, ...] | StoredChunks = ()
    nearest: NearestChunks | None = None
    codebook: tuple[TouchpointDef, ...] | None = None
    personas: tuple[PersonaSection, ...] = ()
    embedding: str = ""  # the embedding's name, part of the offline engine's provenance
    recodes: tuple[Recode, ...] = ()  # the researcher's recoding decisions, in order
    request_tokens: int = REQUEST_TOKENS  # customer text in one model request ([run] request_tokens)

    @cached_property
    def by_id(self) -> dict[str, Record]:
        return {r.record_id: r for r in self.records}

    def passages(self, question: str, record_ids: Sequence[str], n: int) -> list[Passage]:
        """The passages closest in meaning to the question, one per record, from the customer's
        own sentences in these records."""
        ids = sorted(set(record_ids) & self.by_id.keys())
        if not ids or n <= 0:
            return []
        vector = self.embed([question])[0]
        out: list[Passage] = []
        for _, record_id, lo, hi in self._nearest(vector, ids, n * 4):
            if any(p.record_id == record_id for p in out):
                continue
            if passage := self._passage(self.by_id[record_id], lo, hi, vector):
                out.append(passage)
            if len(out) == n:
                break
        return out

    def _nearest(self, vector: np.ndarray, ids: list[str], k: int) -> list[tuple[str, str, int, int]]:
        if self.nearest is not None:
            return self.nearest(vector, ids, k)
        wanted = set(ids)
        chunks = [c for c in self.chunks if c.record_id in wanted] or [
            ChunkRef(r, r, 0, len(self.by_id[r].text)) for r in ids]
        sims = self.embed([self.by_id[c.record_id].text[c.start:c.end] for c in chunks]) @ vector
        return [(c.chunk_id, c.record_id, c.start, c.end) for c in (chunks[i] for i in np.argsort(-sims)[:k])]

    def _passage(self, record: Record, lo: int, hi: int, vector: np.ndarray) -> Passage | None:
        """Within one customer turn of the chunk: the sentence closest to the question with its
        neighbours while they fit."""
        runs = [(spans, k) for a, b in customer_spans(record)
                if (spans := sentences(record.text, max(a, lo), min(b, hi))) for k in range(len(spans))]
        if not runs:
            return None
        texts = [record.text[s[k][0]:s[k][1]] for s, k in runs]
        spans, k = runs[int(np.argmax(self.embed(texts) @ vector))]
        start, end = passage_around(record.text, spans, k, PASSAGE_CHARS)
        return Passage(record.record_id, start, end, record.text[start:end])


@dataclass(frozen=True)
class ModelEngine:
    """A stage on a model: `requests(**inputs)` builds the requests, `parse(answers, fallback,
    **inputs)` reads the answers (in the order of the requests) into the stage's artefact;
    `fallback()` gives the offline artefact for whatever the answers do not cover."""
    prompts: tuple[str, ...]
    requests: Callable[..., list[Request]]
    parse: Callable[..., BaseModel]


@dataclass(frozen=True)
class Stage:
    name: str
    needs: tuple[str, ...]
    produces: type[BaseModel]
    version: str
    offline: Callable[..., BaseModel]
    model: ModelEngine | None = None
    # applies the corpus's recoding decisions: they are part of its inputs (and only its:
    # a recode does not make the stages before it run again)
    recoded: bool = False
    # learns from the researcher's corrections (`mentions.learned`): what they teach is part of its inputs
    learns: bool = False


stages: Registry[Stage] = Registry("stage", "valuestory.stages")


def answered(answers: list[Answer]) -> list[Answer]:
    """The answers that passed their schema and every check."""
    return [a for a in answers if a.value is not None and not a.problems]
