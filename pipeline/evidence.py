"""Evidence for the drafting stages, retrieved from the vector store.

A drafting prompt shows the model the passages closest in meaning to what it asks about,
from the records that matter (a persona's, a decision's), cut down to the customer's own
sentences and a few hundred characters each: the model reads the relevant words, not the
corpus. Each passage gets a tag (`e1`, `e2`, ...) that the model cites and that maps back
to the record; customer text is escaped so it cannot close or forge a tag.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

import numpy as np

from valuestory.records import Record

from .chunk import SENTENCE
from .mentions import customer_spans

PASSAGE_CHARS = 200


@dataclass(frozen=True)
class Passage:
    record_id: str
    start: int
    end: int
    text: str


class Retriever:
    """Nearest passages to a question among given records, one per record."""

    def __init__(self, vectors, ledger, records: dict[str, Record]) -> None:
        self.vectors, self.ledger, self.records = vectors, ledger, records
        self.embed = vectors.embedder.embed

    def passages(self, question: str, record_ids: Iterable[str], n: int) -> list[Passage]:
        ids = sorted(set(record_ids) & self.records.keys())
        if not ids or n <= 0:
            return []
        question_vec = self.embed([question])[0]
        hits = self.vectors.query(question_vec[None, :], n * 4, {"record_id": {"$in": ids}})
        chunks = self.ledger.chunks_by_id([h.chunk_id for h in hits])
        out: list[Passage] = []
        seen: set[str] = set()
        for hit in hits:
            chunk = chunks.get(hit.chunk_id)
            if chunk is None or chunk["record_id"] in seen:
                continue
            passage = self._best_sentences(self.records[chunk["record_id"]], chunk["start"], chunk["end"],
                                           question_vec)
            if passage:
                out.append(passage)
                seen.add(passage.record_id)
            if len(out) == n:
                break
        return out

    def _best_sentences(self, record: Record, lo: int, hi: int, question_vec: np.ndarray) -> Passage | None:
        """The customer sentence of the chunk closest to the question, with its neighbours in
        the same turn while they fit."""
        runs = []  # sentences of each customer turn inside the chunk
        for a, b in customer_spans(record):
            a, b = max(a, lo), min(b, hi)
            spans = [(m.start(), m.end()) for m in SENTENCE.finditer(record.text, a, b)
                     if record.text[m.start():m.end()].strip()]
            runs += [(spans, k) for k in range(len(spans))]
        if not runs:
            return None
        texts = [record.text[s[k][0]:s[k][1]] for s, k in runs]
        best = int(np.argmax(self.embed(texts) @ question_vec))
        spans, k = runs[best]
        i = j = k
        while True:
            grown = False
            if j + 1 < len(spans) and spans[j + 1][1] - spans[i][0] <= PASSAGE_CHARS:
                j, grown = j + 1, True
            if i > 0 and spans[j][1] - spans[i - 1][0] <= PASSAGE_CHARS:
                i, grown = i - 1, True
            if not grown:
                break
        start, end = spans[i][0], spans[j][1]
        text = record.text[start:end]
        start += len(text) - len(text.lstrip())
        end -= len(text) - len(text.rstrip())
        if end - start > PASSAGE_CHARS:  # one long sentence: its first words
            cut = record.text.rfind(" ", start, start + PASSAGE_CHARS)
            end = cut if cut > start else start + PASSAGE_CHARS
        return Passage(record.record_id, start, end, record.text[start:end])


class Tags:
    """Passages numbered for one prompt. The same passage keeps its tag within the prompt."""

    def __init__(self) -> None:
        self.passages: list[Passage] = []
        self._index: dict[tuple[str, int, int], int] = {}

    def tag(self, p: Passage) -> str:
        key = (p.record_id, p.start, p.end)
        if key not in self._index:
            self._index[key] = len(self.passages)
            self.passages.append(p)
        return f"e{self._index[key] + 1}"

    def render(self, p: Passage) -> str:
        return f"<{self.tag(p)}>{escape(' '.join(p.text.split()), quote=False)}"

    def get(self, ref: str) -> Passage | None:
        ref = ref.strip().strip("<>").lower()
        if ref.startswith("e") and ref[1:].isdigit() and 0 < int(ref[1:]) <= len(self.passages):
            return self.passages[int(ref[1:]) - 1]
        return None

    def unknown(self, refs: Iterable[str]) -> list[str]:
        return [r for r in refs if self.get(r) is None]

    def records(self, refs: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(p.record_id for r in refs if (p := self.get(r))))
