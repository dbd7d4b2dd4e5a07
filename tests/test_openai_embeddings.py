"""The OpenAI embedding path over real HTTP, against a scripted endpoint on 127.0.0.1."""

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from valuestory.errors import ValuestoryError
from valuestory.ingest.ingest import ingest
from valuestory.stores.embeddings import OpenAIEmbedder
from valuestory.stores.search import search


def vector(text: str) -> list[float]:
    words = text.lower().split()
    v = np.zeros(32)
    for w in words:
        v[int(hashlib.md5(w.encode()).hexdigest(), 16) % 32] += 1
    return (v * 3).tolist()  # deliberately not unit length


class Endpoint(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Endpoint.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        data = [{"object": "embedding", "index": i, "embedding": vector(t)} for i, t in enumerate(body["input"])]
        data.reverse()  # the API does not promise order; the client must sort by index
        payload = json.dumps({"object": "list", "data": data, "model": body["model"],
                              "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Endpoint.requests = []
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_port}/v1")
    yield Endpoint
    server.shutdown()


def test_batches_keep_order_and_vectors_are_unit_length(endpoint):
    embedder = OpenAIEmbedder("text-embedding-3-small")
    texts = [f"text number {i}" for i in range(600)]
    vectors = embedder.embed(texts)
    assert vectors.shape == (600, 32) and embedder.name == "openai:text-embedding-3-small"
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1)
    expected = np.array(vector(texts[599]))
    assert np.allclose(vectors[599], expected / np.linalg.norm(expected))
    assert [len(r["input"]) for r in endpoint.requests] == [512, 88]
    assert endpoint.requests[0]["path"] == "/v1/embeddings"
    assert endpoint.requests[0]["auth"] == "Bearer sk-test-not-a-real-key"


def test_ingest_and_search_with_openai_embeddings(endpoint, project, write):
    project.config.store.embedding = "openai:text-embedding-3-small"
    path = write("s.csv", "id,score,comment\n1,9,instant payouts are great\n2,3,sync duplicated invoices\n")
    [r] = ingest(project, [path])
    assert r.status == "stored"
    assert search(project, "sync duplicated", 1)[0]["record_id"] == "nps:2"


def test_missing_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValuestoryError, match="OPENAI_API_KEY"):
        OpenAIEmbedder("")
