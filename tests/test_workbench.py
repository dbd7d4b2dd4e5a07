"""The researcher's workbench: the small things a researcher trips over first."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
VALUESTORY = str(Path(sys.executable).parent / "valuestory")


def cli(*args: str, cwd: Path, check: int | None = 0, columns: int = 200) -> subprocess.CompletedProcess:
    result = subprocess.run([VALUESTORY, *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": str(columns)}, timeout=300)
    if check is not None:
        assert result.returncode == check, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("small")
    (root / "s.csv").write_text("id,score,comment\n1,9,Support answered within minutes.\n"
                                "2,3,The invoice was wrong twice and support never called back.\n", encoding="utf-8")
    cli("ingest", "s.csv", cwd=root)
    cli("run", cwd=root)
    return root


def test_dash_as_output_is_standard_output(small):
    out = cli("export", "mentions", "-f", "json", "-o", "-", cwd=small).stdout
    assert json.loads(out) and not (small / "-").exists()
    html = cli("report", "-o", "-", cwd=small).stdout
    assert html.lstrip().startswith("<!DOCTYPE html>") and not (small / "-").exists()


def test_offline_run_does_not_boast_groundedness(small):
    out = cli("run", cwd=small).stdout
    assert "groundedness" not in out  # true by construction offline


def test_run_on_an_empty_project_says_there_is_nothing_to_run(tmp_path):
    cli("init", "empty", cwd=tmp_path)
    done = cli("run", "-p", "empty", cwd=tmp_path, check=2)
    assert "nothing to run" in done.stderr and "valuestory ingest" in done.stderr


def test_paths_are_shown_whole_and_forget_takes_them(tmp_path):
    folder = tmp_path / "research" / "2026-q3-interviews-with-long-folder-names"
    folder.mkdir(parents=True)
    for name in ("participant-interview-transcript-a.txt", "participant-interview-transcript-b.txt"):
        (folder / name).write_text("Interviewer: How was setup?\nCustomer: Setup took an afternoon.\n", encoding="utf-8")
    out = cli("ingest", "research", cwd=tmp_path, columns=80).stdout
    flat = out.replace("\n", "").replace("│", "").replace(" ", "")
    for name in ("participant-interview-transcript-a.txt", "participant-interview-transcript-b.txt"):
        assert name in flat
    narrow = cli("sources", cwd=tmp_path, columns=80).stdout
    assert "…" not in narrow and "transcript-b.txt" in narrow.replace("\n", "").replace("│", "").replace(" ", "")
    listed = cli("sources", cwd=tmp_path).stdout
    shown = next(cell.strip() for line in listed.splitlines() if "transcript-a" in line for cell in line.split("│")
                 if "transcript-a" in cell)
    assert shown == "research/2026-q3-interviews-with-long-folder-names/participant-interview-transcript-a.txt"
    cli("forget", shown, cwd=tmp_path)
    left = cli("sources", cwd=tmp_path).stdout
    assert "transcript-a" not in left and "transcript-b" in left
