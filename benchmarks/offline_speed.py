"""Speed of the offline engine: a full `valuestory run` over the sample corpus, and over
20,000 generated survey responses.

    .venv/bin/python benchmarks/offline_speed.py [--responses 20000]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ingest import generate  # noqa: E402  (the same generated survey batch as the ingest benchmark)

from valuestory.ingest.ingest import ingest  # noqa: E402
from valuestory.pipeline.run import run  # noqa: E402
from valuestory.project import Project  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def timed_run(project: Project, codebook: Path | None = None) -> tuple[float, int]:
    start = time.perf_counter()
    result = run(project, codebook=codebook)
    return time.perf_counter() - start, result.summary.mentions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=20000)
    parser.add_argument("--codebook", type=Path, help="also time the 20,000 responses coded with this codebook")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(ROOT / "data_samples" / "corpus", root / "corpus")
        sample = Project(root / "sample")
        sample.create()
        ingest(sample, [root / "corpus"])
        records = sample.ledger.record_count()
        seconds, mentions = timed_run(sample)
        print(f"sample corpus: {records} records, {mentions} mentions, offline run {seconds:.1f} s")

        generate(root / "survey", args.responses, 0)
        big = Project(root / "big")
        big.create()
        ingest(big, [root / "survey"])
        seconds, mentions = timed_run(big)
        print(f"{args.responses} survey responses: {mentions} mentions, offline run {seconds:.1f} s, "
              f"{args.responses / seconds:,.0f} records/s")
        if args.codebook:
            seconds, mentions = timed_run(big, args.codebook)
            print(f"{args.responses} survey responses with the codebook {args.codebook.name}: {mentions} mentions, "
                  f"offline run {seconds:.1f} s, {args.responses / seconds:,.0f} records/s")
        print(f"peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
