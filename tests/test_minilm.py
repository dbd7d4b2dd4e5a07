"""The optional all-MiniLM-L6-v2 embedding, offline. Runs where the `minilm` extra is
installed (`make test-minilm`, which CI runs); skipped in the default install."""

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")

from valuestory.ingest.ingest import ingest  # noqa: E402
from valuestory.stores.embeddings import make_embedder  # noqa: E402
from valuestory.stores.search import search  # noqa: E402

pytestmark = pytest.mark.minilm


def test_minilm_loads_offline_and_embeds_by_meaning(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = make_embedder("minilm")
    v = embedder.embed(["the payout took five days", "money arrived late in my bank", "I love the quote builder"])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_ingest_and_search_with_minilm(project, write):
    project.config.store.embedding = "minilm"
    path = write("s.csv", "id,score,comment\n1,9,instant payouts are great\n2,3,the accounting sync made duplicate invoices\n")
    [r] = ingest(project, [path])
    assert r.status == "stored" and project.vectors.embedder.name == "sentence-transformers:all-MiniLM-L6-v2"
    assert search(project, "QuickBooks created the same bill twice", 1)[0]["record_id"] == "nps:2"
