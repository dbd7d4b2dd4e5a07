"""Chroma as the vector index over the ledger's chunks: embedded, or a Chroma server.

Chroma holds each chunk's vector with its record id and kind; the text lives in the ledger
(storing it twice would cost about 40% of Chroma's write rate, measured here). The
collection records which embedding model filled it, and refuses to mix models.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from valuestory.config import Config
from valuestory.errors import ValuestoryError

from .embeddings import Embedder, make_embedder


class EmbeddingMismatch(ValuestoryError):
    pass


@dataclass
class Hit:
    chunk_id: str
    score: float  # cosine similarity, 1 is identical


class VectorStore:
    def __init__(self, client, name: str, embedder: Embedder, where: str) -> None:
        self.client, self.name, self.embedder, self.where = client, name, embedder, where
        try:
            self.collection = client.get_collection(name, embedding_function=None)
        except Exception:  # NotFoundError, whose import path differs across Chroma versions
            self.collection = client.create_collection(
                name, embedding_function=None,
                metadata={"embedding": embedder.name, "hnsw:space": "cosine"})
        stored = (self.collection.metadata or {}).get("embedding")
        if stored and stored != embedder.name:
            raise EmbeddingMismatch(
                f"The store's collection '{name}' was filled with the embedding model '{stored}', "
                f"but the project is set to '{embedder.name}'. Vectors of two models cannot be "
                f"compared: set embedding back in valuestory.toml, or run `valuestory reindex` "
                "to re-embed everything with the new model")
        self.max_batch = client.get_max_batch_size()
        self.write_batch = min(self.max_batch, 2048)

    def add(self, ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[dict],
            vectors: np.ndarray | None = None) -> None:
        """Embed and write in batches; the next batch is embedded while the store writes the
        last one (both mostly run outside the GIL)."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            writing = None
            for i in range(0, len(ids), self.write_batch):
                part = slice(i, i + self.write_batch)
                batch = vectors[part] if vectors is not None else self.embedder.embed(list(texts[part]))
                if writing is not None:
                    writing.result()
                writing = pool.submit(self.collection.upsert, ids=list(ids[part]), embeddings=batch,
                                      metadatas=list(metadatas[part]))
            if writing is not None:
                writing.result()

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), self.max_batch):
            self.collection.delete(ids=ids[i:i + self.max_batch])

    def count(self) -> int:
        return self.collection.count()

    def ids(self) -> set[str]:
        """Every chunk id the index can read back."""
        found: set[str] = set()
        for offset in range(0, self.count(), self.max_batch):
            found.update(self.collection.get(include=[], limit=self.max_batch, offset=offset)["ids"])
        return found

    def unreadable(self, ids: Sequence[str]) -> set[str]:
        """Those of `ids` the index does not return: written but lost, or never written."""
        ids = list(ids)
        found: set[str] = set()
        for i in range(0, len(ids), self.max_batch):
            found.update(self.collection.get(ids=ids[i:i + self.max_batch], include=[])["ids"])
        return set(ids) - found

    def query(self, vector: np.ndarray, n: int = 10, where: dict | None = None) -> list[Hit]:
        """Nearest chunks to an embedded query (one row from this store's embedder)."""
        if self.count() == 0:
            return []
        result = self.collection.query(query_embeddings=vector, n_results=n, where=where or None,
                                       include=["distances"])
        return [Hit(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0], strict=True)]


def chroma_client(config: Config, store_dir: Path):
    import chromadb
    from chromadb.config import Settings
    settings = Settings(anonymized_telemetry=False)
    url = config.store.chroma_url
    if not url:
        return chromadb.PersistentClient(path=str(store_dir / "chroma"), settings=settings), str(store_dir / "chroma")
    parsed = urlparse(url if "://" in url else f"http://{url}")
    if not parsed.hostname:
        raise ValuestoryError(f"chroma_url '{url}' is not a URL like http://127.0.0.1:8000")
    try:
        client = chromadb.HttpClient(host=parsed.hostname, port=parsed.port or 8000,
                                     ssl=parsed.scheme == "https", settings=settings)
        client.heartbeat()
    except Exception as exc:  # connection refused, DNS, TLS: all mean the same to the user
        raise ValuestoryError(f"Cannot reach the Chroma server at {url} ({type(exc).__name__}). "
                              "Start it with `chroma run --path DIR --port N`, or remove "
                              "chroma_url to use the embedded store") from exc
    return client, url


def open_vector_store(config: Config, store_dir: Path, embedder: Embedder | None = None) -> VectorStore:
    client, where = chroma_client(config, store_dir)
    return VectorStore(client, config.collection_name(), embedder or make_embedder(config.store.embedding), where)
