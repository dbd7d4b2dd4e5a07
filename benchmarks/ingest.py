"""Ingest benchmark: 20,000 survey responses and 200 interviews, end to end, against the
same store's raw Chroma write rate with precomputed embeddings, in one run.

    .venv/bin/python benchmarks/ingest.py [--responses 20000] [--interviews 200]

Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

from valuestory.ingest.ingest import ingest
from valuestory.project import Project

OPENERS = ["The quote builder", "Scheduling", "The card reader", "Payouts", "The QuickBooks sync",
           "Support chat", "The mobile app", "Onboarding", "The pricing page", "Text reminders",
           "The invoice link", "Offline mode", "The renewal email", "Phone support", "The import tool"]
VERDICTS = ["works great", "is slow", "keeps crashing", "saves me hours every week", "is confusing",
            "was fixed last month", "needs work", "is the reason we stay", "took days to sort out",
            "could be cheaper", "is better than our old tool", "lost my notes twice"]
EXTRAS = ["Call me at (415) 555-0132.", "My email is owner@example.com.", "", "", "",
          "We have 6 techs.", "Renewal is next month.", "I told my friends about it."]
SEGMENTS = ["Owner-operator", "Small crew", "Multi-crew"]


def comment(rng: random.Random) -> str:
    parts = [f"{rng.choice(OPENERS)} {rng.choice(VERDICTS)}." for _ in range(rng.randint(1, 3))]
    return " ".join(parts + [rng.choice(EXTRAS)]).strip()


def generate(folder: Path, responses: int, interviews: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    (folder / "nps").mkdir(parents=True)
    (folder / "interviews").mkdir()
    per_file = 5000
    for f in range(0, responses, per_file):
        with (folder / "nps" / f"survey_{f // per_file + 1}.csv").open("w", newline="", encoding="utf-8") as out:
            w = csv.writer(out)
            w.writerow(["Response ID", "Date", "How likely are you to recommend us?", "Why?", "Segment"])
            for i in range(f, min(f + per_file, responses)):
                w.writerow([f"R{i}", f"2026-{rng.randint(4, 9):02d}-{rng.randint(1, 28):02d}",
                            rng.randint(0, 10), comment(rng), rng.choice(SEGMENTS)])
    for n in range(interviews):
        lines = []
        for _ in range(rng.randint(15, 30)):
            lines.append(f"Interviewer: What about {rng.choice(OPENERS).lower()}?")
            lines.append(f"Customer {n}: " + " ".join(comment(rng) for _ in range(rng.randint(2, 6))))
        (folder / "interviews" / f"interview_{n:03d}.txt").write_text("\n".join(lines), encoding="utf-8")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_once(data: Path, root: Path, rep: int) -> dict:
    project = Project(root / f"project-{rep}")
    project.create()
    _ = project.vectors  # open the store and load the embedding model before the clock starts
    start = time.perf_counter()
    reports = ingest(project, [data])
    elapsed = time.perf_counter() - start
    failed = [r for r in reports if r.status != "stored"]
    assert not failed, failed[0].message
    t0 = time.perf_counter()
    again = ingest(project, [data])
    unchanged = time.perf_counter() - t0
    assert all(r.status == "unchanged" for r in again)

    # The same store's raw write rate: the same chunk ids and metadata, embeddings computed
    # beforehand, written with the same call and batch size into a fresh collection.
    rows = list(project.ledger.all_chunks())
    vectors = project.vectors.embedder.embed([r[3] for r in rows])
    raw = project.vectors.client.create_collection(f"bench-raw-{rep}", embedding_function=None,
                                                   metadata={"hnsw:space": "cosine"})
    batch = project.vectors.write_batch
    t0 = time.perf_counter()
    for i in range(0, len(rows), batch):
        part = rows[i:i + batch]
        raw.upsert(ids=[r[0] for r in part], embeddings=vectors[i:i + batch],
                   metadatas=[{"record_id": r[1], "kind": r[2]} for r in part])
    raw_elapsed = time.perf_counter() - t0
    project.ledger.close()
    return {"records": sum(r.records for r in reports), "chunks": sum(r.chunks for r in reports),
            "elapsed": elapsed, "raw": raw_elapsed, "unchanged": unchanged, "peak": peak_mib()}


def seconds(values) -> str:
    return ", ".join(f"{v:.1f}" for v in values) + " s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=20000)
    parser.add_argument("--interviews", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians are reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "data", args.responses, args.interviews)
        runs = [run_once(root / "data", root, rep) for rep in range(args.repeat)]
    records, chunks = runs[0]["records"], runs[0]["chunks"]
    elapsed = statistics.median(r["elapsed"] for r in runs)
    raw = statistics.median(r["raw"] for r in runs)
    print(f"input: {args.responses} survey responses + {args.interviews} interviews "
          f"= {records} records, {chunks} chunks; {args.repeat} runs, medians")
    print(f"end to end: {elapsed:.1f} s, {records / elapsed:,.0f} records/s, {chunks / elapsed:,.0f} chunks/s "
          f"(runs: {seconds(r['elapsed'] for r in runs)})")
    print(f"raw chroma upsert, precomputed embeddings: {raw:.1f} s, {chunks / raw:,.0f} chunks/s "
          f"(runs: {seconds(r['raw'] for r in runs)})")
    print(f"ratio (end-to-end rate over raw rate): {raw / elapsed:.2f}")
    print(f"re-ingest of the unchanged batch: {statistics.median(r['unchanged'] for r in runs):.2f} s")
    print(f"peak memory (max RSS of the process, first run): {runs[0]['peak']:,.0f} MiB")


if __name__ == "__main__":
    main()
