"""Hostile files through every connector: no traceback, no partial ingest, nothing lost.

The generated files come from `tests/fuzzing.py` (seeded; VALUESTORY_FUZZ_SEED picks
another seed, and a failure names the file to replay)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from valuestory.config import Config
from valuestory.connectors import ParseOptions, connectors, detect_kind
from valuestory.connectors.files import SourceFile
from valuestory.errors import InputError
from valuestory.ingest.chunk import chunk_record
from valuestory.ingest.ingest import ingest
from valuestory.ingest.redact import Redactor

from . import fuzzing
from .test_store import index_matches_ledger

SEED = int(os.environ.get("VALUESTORY_FUZZ_SEED", "20261201"))
FILES = 1200
SLOW = 10.0  # seconds for one file: the alias bomb this guards against took 31 s


def test_no_generated_file_crashes_a_connector(tmp_path: Path) -> None:
    redactor = Redactor(Config().privacy)
    crashes, slow, outcomes = [], [], {"read": 0, "refused": 0}
    for path in fuzzing.write(SEED, FILES, tmp_path):
        started = time.monotonic()
        src = SourceFile(path, path.name)
        try:
            kind, _ = detect_kind(src)
            records = connectors.get(kind).parse(src, ParseOptions())
            for record in records:
                chunk_record(redactor.record(record), 400)
                record.model_dump_json()  # storable: no lone surrogates, nothing unserialisable
            outcomes["read"] += 1
        except InputError as exc:
            assert path.name in exc.located(path.name).render()
            outcomes["refused"] += 1
        except Exception as exc:  # noqa: BLE001 - what this test exists to catch
            crashes.append(f"{path.name}: {type(exc).__name__}: {exc}"[:300])
        if time.monotonic() - started > SLOW:
            slow.append(path.name)
    print(f"seed {SEED}: {outcomes}")
    assert not crashes, f"seed {SEED}: {len(crashes)} crashes, e.g. {crashes[:5]}"
    assert not slow, f"seed {SEED}: over {SLOW} s: {slow}"
    assert outcomes["read"] > FILES // 10 and outcomes["refused"] > FILES // 10  # the mix really is mixed


@pytest.mark.parametrize("seed", [SEED + 1])
def test_a_fuzzed_batch_stores_each_file_whole_or_not_at_all(project, tmp_path: Path, seed: int) -> None:
    folder = tmp_path / "batch"
    paths = fuzzing.write(seed, 150, folder)
    reports = ingest(project, [folder])
    by_status = {s: [r for r in reports if r.status == s] for s in ("stored", "failed")}
    assert len(by_status["stored"]) + len(by_status["failed"]) == len(paths)
    assert by_status["stored"] and by_status["failed"]
    assert not [r.message for r in by_status["failed"] if "fault in valuestory" in r.message]
    stored = {s.path: s for s in project.ledger.sources()}
    assert set(stored) == {r.path for r in by_status["stored"]}  # no failed file left a trace
    for r in by_status["stored"]:
        assert stored[r.path].records == r.records == len(project.ledger.record_hashes(r.path))
    index_matches_ledger(project)
    before = project.ledger.record_count()
    again = ingest(project, [folder])  # the same batch again changes nothing
    assert {r.path: r.status for r in again} == {
        r.path: "unchanged" if r.status == "stored" else "failed" for r in reports}
    assert project.ledger.record_count() == before
