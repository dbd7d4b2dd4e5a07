"""Semantic search over the stored chunks, each hit shown with the passage that matched."""

from __future__ import annotations

import numpy as np

from valuestory.project import Project

from .chunk import SENTENCE

SNIPPET_CHARS = 320


def best_passage(text: str, query_vec: np.ndarray, embed) -> tuple[int, int]:
    """The sentence of a chunk closest to the query, widened with its neighbours up to a
    readable length. Offsets are into the chunk text."""
    spans = [(m.start(), m.end()) for m in SENTENCE.finditer(text) if text[m.start():m.end()].strip()]
    if len(spans) <= 1 or len(text) <= SNIPPET_CHARS:
        return 0, len(text)
    scores = embed([text[s:e] for s, e in spans]) @ query_vec
    i = j = int(np.argmax(scores))
    while True:
        grown = False
        if i > 0 and spans[j][1] - spans[i - 1][0] <= SNIPPET_CHARS:
            i, grown = i - 1, True
        if j + 1 < len(spans) and spans[j + 1][1] - spans[i][0] <= SNIPPET_CHARS:
            j, grown = j + 1, True
        if not grown:
            return spans[i][0], spans[j][1]


def search(project: Project, query: str, n: int = 10, kind: str | None = None) -> list[dict]:
    vectors = project.vectors
    embed = vectors.embedder.embed
    query_vec = embed([query])[0]
    hits = vectors.query(query_vec[None, :], n, {"kind": kind} if kind else None)
    chunks = project.ledger.chunks_by_id([h.chunk_id for h in hits])
    results = []
    for hit in hits:
        chunk = chunks.get(hit.chunk_id)
        if chunk is None:  # indexed but no longer in the ledger: settled on the next ingest
            continue
        s, e = best_passage(chunk["text"], query_vec, embed)
        snippet = chunk["text"][s:e].strip()
        results.append({
            "score": round(hit.score, 4), "record_id": chunk["record_id"], "kind": chunk["kind"],
            "source": chunk["source"], "locator": chunk["locator"],
            "start": chunk["start"] + s, "end": chunk["start"] + e,
            "snippet": " ".join(snippet.split()),
        })
    return results
