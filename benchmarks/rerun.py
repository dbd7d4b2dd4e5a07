"""An unchanged re-run against a full offline run, on the sample corpus.

    .venv/bin/python benchmarks/rerun.py

Prints the seconds of a full offline run, of a second run on unchanged data (every stage's
output taken from the run that made it from the same inputs), and of a run after adding 10%
new records (the stages re-made), in-process, median of three.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from valuestory.ingest.ingest import ingest
from valuestory.pipeline.run import run
from valuestory.project import Project

ROOT = Path(__file__).resolve().parent.parent


def timed(project: Project) -> float:
    started = time.perf_counter()
    run(project)
    return time.perf_counter() - started


def main() -> None:
    full, again, more = [], [], []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            shutil.copytree(ROOT / "data_samples" / "corpus", root / "corpus")
            project = Project(root / "project")
            project.create()
            ingest(project, [root / "corpus"])
            full.append(timed(project))
            again.append(timed(project))
            rows = ["Response ID,Score,Comment"] + [f"NEW-{i},{i % 11},New answer {i}: payouts were slow"
                                                    for i in range(45)]
            (root / "corpus" / "nps" / "new.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
            ingest(project, [root / "corpus"])
            more.append(timed(project))
    f, a, m = (statistics.median(x) for x in (full, again, more))
    print(f"full offline run: {f:.2f} s; unchanged re-run: {a:.2f} s = {a / f:.1%} of a full run; "
          f"after 10% new records: {m:.2f} s = {m / f:.1%}")


if __name__ == "__main__":
    main()
