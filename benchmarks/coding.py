"""How well the coding engine generalizes: every dataset in ../shared/datasets and the sample,
each figure with its 95% bootstrap interval and the seconds it took (ingest, run and scoring).

    .venv/bin/python benchmarks/coding.py [--llm SPEC] [--banking-per-intent 40] [--json out.json]

- MAMS-ACSA validation (400 restaurant-review sentences): the 8 categories, each with a
  one-line plain description, are the codebook (`valuestory.evaluations.public.MAMS_CODEBOOK`);
  category precision, recall and F1 micro over sentences, and polarity accuracy on the
  categories both the labels and the run found; intervals resample sentences.
- BANKING77, the datasets README's train-only 10-shot protocol: per intent (sorted), its
  train queries shuffled with random.Random(2026); the first 10 are the codebook's examples
  (770 in all), the next 40 (fewer where an intent has under 50) are coded: 3,056 queries.
  Accuracy of the intent of each query's highest-confidence mention; intervals resample queries.
- Oakhaven dev and test (test is scored, never read), and the sample's test split: the
  harness's `evaluate_dataset`, inductive and with the dataset's catalogue as the codebook
  (`valuestory eval --dataset DIR --split S [--codebook]`); intervals resample units.

Without ../shared/datasets (or --shared DIR) the public datasets are skipped, and it says so.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from valuestory.evaluations import public, runs
from valuestory.evaluations.dataset import load_dataset
from valuestory.evaluations.harness import evaluate_dataset
from valuestory.stats import Interval

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"


def shown(e: Interval | dict) -> str:
    e = runs.to_json({"x": e})["x"] if isinstance(e, Interval) else e
    if e.get("value") is None:
        return "not measured"
    if e.get("ci_low") is None:
        return f"{e['value']:.3f} (n={e.get('n', 0)})"
    return f"{e['value']:.3f} [{e['ci_low']:.3f}, {e['ci_high']:.3f}]"


def mams(shared: Path, llm: str, n: int, embedding: str | None = None) -> dict:
    started = time.perf_counter()
    items = public.mams(shared / "mams-acsa" / "val.xml")
    coded, about = public.code_texts([t for t, _ in items], public.mams_codebook(), llm, embedding=embedding)
    scores = public.score_mams(items, coded, n)
    return {"name": "MAMS-ACSA val", "items": f"{len(items)} sentences, 8-category codebook", **about,
            "metrics": scores, "seconds": time.perf_counter() - started}


def banking(shared: Path, llm: str, n: int, per_intent: int | None, embedding: str | None = None) -> dict:
    started = time.perf_counter()
    codebook, queries = public.banking77_fewshot(shared / "banking77" / "train.csv", per_intent=per_intent)
    coded, about = public.code_texts([q for q, _ in queries], codebook, llm, embedding=embedding)
    scores = public.score_banking77(queries, codebook, coded, n)
    return {"name": "BANKING77 10-shot (train only)",
            "items": f"{len(codebook)} intents x {public.BANKING77_SHOTS} examples, {len(queries)} queries, "
                     f"seed {public.BANKING77_SEED}", **about, "metrics": scores, "seconds": time.perf_counter() - started}


def dataset(root: Path, split: str, codebook: bool, llm: str, n: int, embedding: str | None = None) -> dict:
    report = evaluate_dataset(load_dataset(root), split, llm, n=n, codebook=codebook, embedding=embedding)
    metrics = {m: report["metrics"][m] for m in runs.HEADLINE if m in report["metrics"]}
    return {"name": f"{root.name} {split}, {'catalogue as codebook' if codebook else 'inductive'}",
            "items": f"{report['units']} units", "engine": report["engine"], "model": report["model"],
            "metrics": metrics, "seconds": report["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm", default="offline", help="engine, as for `valuestory run` (default offline)")
    parser.add_argument("--shared", type=Path, default=SHARED, help=f"the shared datasets (default {SHARED})")
    parser.add_argument("--banking-per-intent", type=int, default=public.BANKING77_QUERIES,
                        help="BANKING77 queries coded per intent (default 40: the README's 3,056 queries; "
                             "fewer take the first of the same split)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--embedding", help="embedding model, as in valuestory.toml (default: wordllama; minilm "
                                            "needs the minilm extra and a CPU torch)")
    parser.add_argument("--only", choices=("mams", "banking77", "oakhaven", "sample"), action="append",
                        help="measure only these (repeatable; default all)")
    args = parser.parse_args()
    want = set(args.only or ("mams", "banking77", "oakhaven", "sample"))
    emb = args.embedding
    jobs = []
    if args.shared.is_dir():
        jobs += [lambda: mams(args.shared, args.llm, args.resamples, emb)] if "mams" in want else []
        jobs += [lambda: banking(args.shared, args.llm, args.resamples, args.banking_per_intent, emb)] \
            if "banking77" in want else []
        jobs += [lambda s=s, c=c: dataset(args.shared / "oakhaven", s, c, args.llm, args.resamples, emb)
                 for s in ("dev", "test") for c in (False, True)] if "oakhaven" in want else []
    else:
        print(f"{args.shared} is absent: skipping MAMS, BANKING77 and Oakhaven; only the sample is measured")
    jobs += [lambda c=c: dataset(ROOT / "data_samples", "test", c, args.llm, args.resamples, emb)
             for c in (False, True)] if "sample" in want else []
    results = []
    for job in jobs:
        r = job()
        results.append(r)
        print(f"{r['name']} ({r['items']}; {r['engine']}, {r['model']}): {r['seconds']:.1f} s")
        for name, e in r["metrics"].items():
            print(f"  {name:22} {shown(e)}")
        sys.stdout.flush()
    if args.json:
        args.json.write_text(json.dumps([runs.to_json(r) for r in results], indent=1), encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
