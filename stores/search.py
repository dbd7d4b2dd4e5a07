"""Semantic search over the stored chunks, each hit shown with the passage that matched."""

from __future__ import annotations

import numpy as np

from valuestory.pipeline.text import passage_around, sentences
from valuestory.project import Project

SNIPPET_CHARS = 320


def best_passage(text: str, query_vec: np.ndarray, embed) -> tuple[int, int]:
    """The sentence of a chunk closest to the query, widened with its neighbours up to a
    readable length. Offsets are into the chunk text."""
    spans = sentences(text)
    if len(spans) <= 1 or len(text) <= SNIPPET_CHARS:
        return 0, len(text)
    best = int(np.argmax(embed([text[s:e] for s, e in spans]) @ query_vec))
    return passage_around(text, spans, best, SNIPPET_CHARS)


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
