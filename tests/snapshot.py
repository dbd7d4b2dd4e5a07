"""Every export of an offline run on the sample corpus, as a user gets them from the CLI.

`python tests/snapshot.py OUT_DIR` writes them; `tests/test_behaviour.py` compares a fresh
run with the snapshot committed in `tests/fixtures/exports/`, made by the code before the
stage contract (issue 10), so that a refactor cannot silently change what users read.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSV_EXPORTS = ("mentions", "touchpoints", "scores", "decisions", "journeys", "roles", "opportunities",
               "stories", "valuemap", "promises", "briefs", "steps", "personas", "codebook")
JSON_EXPORTS = ("opportunities", "stories", "valuemap", "briefs")
VOLATILE = ("run_id",)  # differs from run to run by design


def _cli(*args: str) -> str:
    exe = Path(sys.executable).with_name("valuestory")
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=ROOT, check=True)
    return done.stdout


def _stable(text: str) -> str:
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        return text
    columns = [c for c in rows[0] if c not in VOLATILE]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def exports() -> dict[str, str]:
    """file name -> content, for every export of a fresh offline run on data_samples/."""
    with tempfile.TemporaryDirectory() as tmp:
        project = str(Path(tmp) / "p")
        _cli("init", project)
        toml = Path(project) / "valuestory.toml"  # a fixed salt: the same pseudonyms every time
        toml.write_text(re.sub(r'salt = "[0-9a-f]*"', 'salt = "snapshot"', toml.read_text()))
        _cli("ingest", "--project", project, str(ROOT / "data_samples" / "corpus"))
        _cli("run", "--project", project)
        out = {f"{k}.csv": _stable(_cli("export", k, "--project", project)) for k in CSV_EXPORTS}
        out |= {f"{k}.json": _cli("export", k, "--project", project, "--format", "json") for k in JSON_EXPORTS}
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for name, text in exports().items():
        (target / name).write_text(text, encoding="utf-8")
