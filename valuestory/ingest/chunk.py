"""Chunking: pieces of a record small enough to embed, cut where the conversation turns.

Chunks follow speaker turns and record boundaries: consecutive turns are packed together up
to `max_tokens` (a question stays with its answer); a turn longer than that is cut at
sentence ends, and a sentence longer than that at spaces. A chunk's text is always exactly
`record.text[start:end]`, so a quote found in a chunk can be located in its record.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from valuestory.pipeline.text import sentences
from valuestory.records import Record
from valuestory.tokens import count_tokens

WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    record_id: str
    index: int
    start: int
    end: int
    text: str
    tokens: int


def _units(record: Record) -> list[tuple[int, int]]:
    """Spans that should not be split if they fit: each turn with its speaker label, the
    text before the first turn, or the paragraphs of a record without turns."""
    text = record.text
    if record.turns:
        spans = []
        for turn in record.turns:
            label_start = text.rfind("\n", 0, turn.start) + 1
            spans.append((label_start, turn.end))
        if spans[0][0] > 0 and text[: spans[0][0]].strip():
            spans.insert(0, (0, len(text[: spans[0][0]].rstrip())))
        return spans
    return [(m.start(), m.end()) for m in re.finditer(r"\S(?:.*\S)?", text) if m.group().strip()] \
        if "\n" in text else ([(0, len(text))] if text.strip() else [])


def _split(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int, int]]:
    """(start, end, tokens) pieces of an over-long span: sentences, then word windows."""
    pieces: list[tuple[int, int, int]] = []
    for s, e in sentences(text, start, end):
        n = count_tokens(text[s:e])
        if n <= max_tokens:
            pieces.append((s, e, n))
            continue
        window_start, window_end, window_tokens = None, s, 0
        for w in WORD.finditer(text, s, e):
            wt = count_tokens(w.group()) + 1
            if window_start is not None and window_tokens + wt > max_tokens:
                pieces.append((window_start, window_end, window_tokens))
                window_start, window_tokens = None, 0
            if window_start is None:
                window_start = w.start()
            window_end, window_tokens = w.end(), window_tokens + wt
        if window_start is not None:
            pieces.append((window_start, window_end, window_tokens))
    return pieces


def chunk_record(record: Record, max_tokens: int = 200) -> list[Chunk]:
    text = record.text
    pieces: list[tuple[int, int, int]] = []
    for start, end in _units(record):
        n = count_tokens(text[start:end])
        pieces.extend([(start, end, n)] if n <= max_tokens else _split(text, start, end, max_tokens))
    groups: list[list[tuple[int, int, int]]] = []
    total = 0
    for piece in pieces:
        if groups and total + piece[2] + 1 <= max_tokens:
            groups[-1].append(piece)
            total += piece[2] + 1
        else:
            groups.append([piece])
            total = piece[2]
    chunks = []
    for index, group in enumerate(groups):
        start, end = group[0][0], group[-1][1]
        body = text[start:end]
        digest = hashlib.sha1(f"{start}:{end}:{body}".encode()).hexdigest()[:10]
        tokens = group[0][2] if len(group) == 1 else count_tokens(body)
        chunks.append(Chunk(f"{record.record_id}#{index}-{digest}", record.record_id, index,
                            start, end, body, tokens))
    return chunks
