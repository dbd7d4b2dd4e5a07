"""A non-editable install must carry every package under the one `valuestory` name."""

import subprocess
import sys
import zipfile

from .conftest import ROOT


def test_wheel_maps_the_top_level_folders_under_valuestory(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    [wheel] = tmp_path.glob("valuestory-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in ("valuestory/cli/__init__.py", "valuestory/connectors/nps.py", "valuestory/ingest/ingest.py",
                   "valuestory/llm/runner.py", "valuestory/render/report.py", "valuestory/pipeline/contract.py",
                   "valuestory/pipeline/mentions/llm.py", "valuestory/pipeline/catalogue/llm.py",
                   "valuestory/pipeline/stories/llm.py", "valuestory/pipeline/opportunities/llm.py",
                   "valuestory/stores/vectors.py", "valuestory/stores/runs.py", "valuestory/evaluations/__init__.py",
                   "valuestory/prompts/__init__.py", "valuestory/prompts/mentions.v3.md",
                   "valuestory/render/templates/report.html"):
        assert module in names
    assert not any(n.startswith(("pipeline/", "stores/", "connectors/", "tests/")) for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "valuestory = valuestory.cli:app" in zipfile.ZipFile(wheel).read(entry_points).decode()
