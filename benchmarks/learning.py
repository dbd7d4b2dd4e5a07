"""The learning curve: what 5, 10 and 20 corrections per code teach the offline engine.

    .venv/bin/python benchmarks/learning.py [--shots 5 10 20] [--resamples 200] [--json out.json]

Corrections are verdicts on the engine's own mentions of a part nobody scores, as a
researcher gives them in `valuestory review` (`evaluations.learn.corrections`: confirm,
polarity, reassign, reject, at most N per code, drawn with a fixed seed); figures are of the
held-out part, before (0) and after:
- MAMS: corrections on 1,000 train sentences (shuffled with seed 1), scored on validation.
- BANKING77 (train only): corrections on up to 30 train queries per intent outside the
  10-shot protocol's examples and queries, scored on the protocol's 3,056 queries.
- Oakhaven and the sample: corrections on the dev split, scored on the test split (test is
  scored, never read), inductive and with the catalogue as the codebook.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from valuestory.evaluations import public, runs
from valuestory.evaluations.dataset import GoldUnit, load_dataset
from valuestory.evaluations.harness import NameMatcher, evaluate, make_embedder, scratch_run, unit_namer
from valuestory.evaluations.learn import corrections

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"
MAMS_POOL = 1000
BANKING_POOL = 30  # train queries per intent to correct
SEED = 7
SIGN = {"positive": 1, "negative": -1, "neutral": 0}


def _lessons_only(recodes: list) -> list:
    """Decisions about another part's records: what they teach, never applied to a mention."""
    return [r.model_copy(update={"record_id": "", "quote": ""}) for r in recodes]


def _text_units(items: list[tuple[str, dict[str, int]]]) -> list[GoldUnit]:
    return [GoldUnit(unit=f"feedback:x{i}", record_id=f"feedback:x{i}", turn=None, touchpoints=gold)
            for i, (_, gold) in enumerate(items)]


def _text_corrections(items: list[tuple[str, dict[str, int]]], codebook, names: set[str], shots: list[int]) -> dict:
    """Per N, the corrections of the engine's mentions of `items` (text, {code: sentiment})."""
    coded, about = public.code_texts([t for t, _ in items], codebook)
    mentions = [m.model_copy(update={"record_id": f"feedback:x{i}"}) for i, ms in enumerate(coded) for m in ms]
    return {n: _lessons_only(corrections(mentions, _text_units(items), lambda rid, start: rid,
                                         lambda x: x if x in names else None, per_code=n, seed=SEED,
                                         scale=about["scale"]))
            for n in shots}


def mams(shared: Path, shots: list[int], n: int) -> list[dict]:
    pool = public.mams(shared / "mams-acsa" / "train.xml")
    random.Random(1).shuffle(pool)
    pool = [(t, {c: SIGN[p] for c, p in gold.items()}) for t, gold in pool[:MAMS_POOL]]
    held = public.mams(shared / "mams-acsa" / "val.xml")
    codebook, names = public.mams_codebook(), {c for c, _ in public.MAMS_CODEBOOK}
    fixes = _text_corrections(pool, codebook, names, shots)
    out = []
    for k in [0, *shots]:
        coded, _ = public.code_texts([t for t, _ in held], codebook, recodes=fixes.get(k, []))
        out.append({"dataset": "MAMS val", "corrections_per_code": k, "corrections": len(fixes.get(k, [])),
                    "metrics": public.score_mams(held, coded, n)})
    return out


def banking(shared: Path, shots: list[int], n: int) -> list[dict]:
    path = shared / "banking77" / "train.csv"
    codebook, held = public.banking77_fewshot(path)
    _, every = public.banking77_fewshot(path, per_intent=None)
    scored = set(held)
    per: dict[str, int] = {}
    pool = []
    for text, intent in every:
        if (text, intent) not in scored and per.get(intent, 0) < BANKING_POOL:
            per[intent] = per.get(intent, 0) + 1
            pool.append((text, {intent: 0}))
    fixes = _text_corrections(pool, codebook, {c for c, _, _ in codebook}, shots)
    out = []
    for k in [0, *shots]:
        coded, _ = public.code_texts([t for t, _ in held], codebook, recodes=fixes.get(k, []))
        out.append({"dataset": "BANKING77 10-shot", "corrections_per_code": k, "corrections": len(fixes.get(k, [])),
                    "metrics": public.score_banking77(held, codebook, coded, n)})
    return out


def dataset(root: Path, codebook: bool, shots: list[int], n: int) -> list[dict]:
    data = load_dataset(root)
    name = f"{root.name} test, {'catalogue as codebook' if codebook else 'inductive'}"

    def scored(recodes=None) -> dict:
        with scratch_run(data, codebook=codebook, recodes=recodes) as (project, run, stored):
            return evaluate(project, run, stored, "test", make_embedder(project.config.store.embedding).embed, n)["metrics"]

    with scratch_run(data, codebook=codebook) as (project, run, stored):
        embed = make_embedder(project.config.store.embedding).embed
        dev = stored.split("dev")
        match = NameMatcher(stored.catalogue, embed, descriptions=stored.descriptions)
        mentions = list(run.coding.mentions)
        unit_of = unit_namer(project, dev)
        zero = evaluate(project, run, stored, "test", embed, n)["metrics"]
        fixes = {k: corrections(mentions, dev, unit_of, match, per_code=k, seed=SEED, scale=run.coding.scale)
                 for k in shots}
    # each scratch project pseudonymises anew, so the decisions keep only their texts: what
    # the engine learns from
    out = [{"dataset": name, "corrections_per_code": 0, "corrections": 0, "metrics": zero}]
    for k in shots:
        out.append({"dataset": name, "corrections_per_code": k, "corrections": len(fixes[k]),
                    "metrics": scored(lambda _stored, k=k: _lessons_only(fixes[k]))})
    return out


HEADLINE = ("category_f1", "polarity_accuracy", "accuracy", "touchpoint_f1", "confidence_ece")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shots", type=int, nargs="+", default=[5, 10, 20], help="corrections per code")
    parser.add_argument("--resamples", type=int, default=200, help="bootstrap resamples (default 200)")
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--only", choices=("mams", "banking77", "oakhaven", "sample"), action="append")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    want = set(args.only or ("mams", "banking77", "oakhaven", "sample"))
    jobs = []
    if args.shared.is_dir():
        jobs += [lambda: mams(args.shared, args.shots, args.resamples)] if "mams" in want else []
        jobs += [lambda: banking(args.shared, args.shots, args.resamples)] if "banking77" in want else []
        jobs += [lambda c=c: dataset(args.shared / "oakhaven", c, args.shots, args.resamples)
                 for c in (False, True)] if "oakhaven" in want else []
    else:
        print(f"{args.shared} is absent: only the sample is measured")
    jobs += [lambda c=c: dataset(ROOT / "data_samples", c, args.shots, args.resamples)
             for c in (False, True)] if "sample" in want else []
    results = []
    for job in jobs:
        started = time.perf_counter()
        rows = job()
        print(f"{rows[0]['dataset']} ({time.perf_counter() - started:.0f} s)")
        for r in rows:
            shown = "; ".join(f"{m} {runs.to_json({'x': r['metrics'][m]})['x']['value']:.3f}"
                              for m in HEADLINE if m in r["metrics"] and r["metrics"][m].value is not None)
            print(f"  {r['corrections_per_code']:>3} per code ({r['corrections']:>4} corrections): {shown}")
        sys.stdout.flush()
        results += rows
    if args.json:
        args.json.write_text(json.dumps([runs.to_json(r) for r in results], indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
