"""Integration: a real `chroma run` server on 127.0.0.1, started and stopped here."""

import os
import shutil
import sys
from pathlib import Path

import pytest

from valuestory.errors import ValuestoryError
from valuestory.ingest.ingest import ingest
from valuestory.project import Project
from valuestory.stores.search import search

from .conftest import CORPUS
from .servers import free_port, running

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    assert chroma, "the chromadb package installs a `chroma` command"
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    url = f"http://127.0.0.1:{port}"
    with running([chroma, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
                 f"{url}/api/v2/heartbeat", data / "server.log", timeout=60,
                 env={**os.environ, "ANONYMIZED_TELEMETRY": "False"}):
        yield url


def test_ingest_and_search_through_a_chroma_server(tmp_path, chroma_url):
    project = Project(tmp_path / "team", chroma_url=chroma_url)
    project.create()
    reports = ingest(project, [CORPUS / "support"])
    assert all(r.status == "stored" for r in reports)
    assert project.vectors.where == chroma_url
    assert project.vectors.count() == sum(r.chunks for r in reports)
    assert not (project.store_dir / "chroma").exists()  # nothing went to the embedded store
    hits = search(project, "duplicate invoices in QuickBooks", 3)
    assert hits and any("sync" in h["snippet"].lower() or "duplicat" in h["snippet"].lower() for h in hits)
    # a second project member, same server and settings: sees the same index
    again = Project(tmp_path / "team", chroma_url=chroma_url)
    assert [r.status for r in ingest(again, [CORPUS / "support"])] == ["unchanged"] * len(reports)
    project.ledger.close()
    again.ledger.close()


def test_unreachable_server_is_a_clear_error(tmp_path):
    project = Project(tmp_path / "p", chroma_url=f"http://127.0.0.1:{free_port()}")
    project.create()
    with pytest.raises(ValuestoryError, match="Cannot reach the Chroma server.*chroma run"):
        project.vectors  # noqa: B018 (opening the store is what fails)
