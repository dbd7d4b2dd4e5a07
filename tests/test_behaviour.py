"""What the pipeline says does not change by accident: every export of an offline run on the
sample corpus matches the snapshot in `tests/fixtures/exports`.

An engine change that is meant to change the output regenerates the snapshot
(`python tests/snapshot.py tests/fixtures/exports`) in the same commit, which says what
changed and why: the diff of the fixture is the review of the change. (The snapshot was first
made by the code before the stage contract of issue 10, whose refactor left every figure as
it was.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.snapshot import exports

pytestmark = pytest.mark.e2e
BEFORE = Path(__file__).parent / "fixtures" / "exports"


@pytest.fixture(scope="module")
def now() -> dict[str, str]:
    return exports()


@pytest.mark.parametrize("name", sorted(p.name for p in BEFORE.iterdir()))
def test_export_unchanged(now: dict[str, str], name: str) -> None:
    assert now[name] == (BEFORE / name).read_text(encoding="utf-8")
