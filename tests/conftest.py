from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from valuestory.connectors import ParseOptions, connectors
from valuestory.connectors.files import SourceFile
from valuestory.project import Project

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data_samples" / "corpus"


@pytest.fixture
def write(tmp_path: Path):
    """Write a file under tmp_path: str content is dedented UTF-8, bytes go as they are."""
    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        return path
    return _write


def parse(path: Path, kind: str, **options):
    return connectors.get(kind).parse(SourceFile(path, path.name), ParseOptions(**options))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path / "proj")
    p.create()
    yield p
    if "ledger" in p.__dict__:
        p.ledger.close()
