"""Fit the Platt coefficients that make a mention's confidence a probability
(`valuestory.pipeline.mentions.calibration.PLATT`), on data the engines are not measured on,
and print each source's calibration error before and after.

- library (no codebook): the sample's dev split and Oakhaven's dev split, run inductively;
  a mention is right when its touchpoint is one the unit's labels name.
- codebook with descriptions only: MAMS train (3,149 sentences; val is what is measured) and
  Oakhaven dev with its catalogue as the codebook.
- codebook with examples: BANKING77 train queries outside the 10-shot protocol (per intent,
  those after its 10 examples and 40 coded queries), coded against the protocol's codebook.

    .venv/bin/python benchmarks/calibrate.py [--shared ../shared/datasets]

Paste the printed PLATT into `pipeline/mentions/calibration.py`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from valuestory.evaluations import public
from valuestory.evaluations.dataset import load_dataset
from valuestory.evaluations.harness import NameMatcher, predict, scratch_run
from valuestory.evaluations.metrics import calibration_error
from valuestory.pipeline.mentions import calibration
from valuestory.stores.embeddings import make_embedder

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"
Outcomes = list[tuple[float, bool]]


def labelled(root: Path, split: str, codebook: bool) -> Outcomes:
    dataset = load_dataset(root)
    with scratch_run(dataset, codebook=codebook) as (project, run, dataset):
        match = NameMatcher(dataset.catalogue, make_embedder(project.config.store.embedding).embed,
                            descriptions=dataset.descriptions)
        predicted = predict(project, run, dataset.split(split), match)
    return [o for p in predicted.values() for o in p.outcomes]


def mams_train(shared: Path) -> Outcomes:
    items = public.mams(shared / "mams-acsa" / "train.xml")
    coded, _ = public.code_texts([t for t, _ in items], public.mams_codebook())
    return [(m.confidence, m.touchpoint in gold) for (_, gold), ms in zip(items, coded, strict=True) for m in ms]


def banking_rest(shared: Path) -> Outcomes:
    codebook, queries = public.banking77_fewshot(shared / "banking77" / "train.csv", per_intent=None)
    seen: dict[str, int] = {}
    rest = []
    for text, intent in queries:  # skip the protocol's coded queries: the first of each intent
        seen[intent] = seen.get(intent, 0) + 1
        if seen[intent] > public.BANKING77_QUERIES:
            rest.append((text, intent))
    coded, _ = public.code_texts([t for t, _ in rest], codebook)
    return [(m.confidence, m.touchpoint == intent) for (_, intent), ms in zip(rest, coded, strict=True) for m in ms]


def fit(sources: list[Outcomes], steps: int = 200) -> tuple[float, float]:
    """Logistic regression of right on logit(raw score), by Newton's method; each source
    weighs the same, however many mentions it has, so that no one corpus sets the curve."""
    outcomes = [o for source in sources for o in source]
    weight = np.concatenate([np.full(len(source), 1 / len(source)) for source in sources])
    raw = np.clip([c for c, _ in outcomes], calibration.EDGE, 1 - calibration.EDGE)
    x = np.stack([np.log(raw / (1 - raw)), np.ones(len(raw))], axis=1)
    y = np.array([r for _, r in outcomes], dtype=float)
    beta = np.array([1.0, 0.0])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ beta))
        hessian = x.T @ (x * (weight * p * (1 - p))[:, None]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hessian, x.T @ (weight * (p - y)))
        beta -= step / max(1.0, float(np.linalg.norm(step)))  # damped: a full step can overshoot
    return round(float(beta[0]), 3), round(float(beta[1]), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=SHARED, help=f"the shared datasets (default {SHARED})")
    args = parser.parse_args()
    calibration.PLATT = {kind: (1.0, 0.0) for kind in calibration.PLATT}  # the raw scores
    oakhaven = args.shared / "oakhaven"
    codebook_kind = "codebook_examples" if any(load_dataset(oakhaven).examples.values()) else "codebook"
    sources = [("library", "sample dev", lambda: labelled(ROOT / "data_samples", "dev", False)),
               ("library", "oakhaven dev", lambda: labelled(oakhaven, "dev", False)),
               ("codebook", "MAMS train", lambda: mams_train(args.shared)),
               (codebook_kind, "oakhaven dev, codebook", lambda: labelled(oakhaven, "dev", True)),
               ("codebook_examples", "BANKING77 outside the protocol", lambda: banking_rest(args.shared))]
    got = [(kind, name, measure()) for kind, name, measure in sources]
    platt = {kind: fit([outcomes for k, _, outcomes in got if k == kind and outcomes]) for kind in calibration.PLATT}
    calibration.PLATT = platt
    for kind, name, outcomes in got:
        after = [(calibration.probability(c, kind), r) for c, r in outcomes]
        print(f"{name} ({kind}): {len(outcomes)} mentions, {sum(r for _, r in outcomes) / len(outcomes):.3f} right; "
              f"calibration error {calibration_error(outcomes):.3f} raw, {calibration_error(after):.3f} calibrated")
    print("PLATT = {\n" + "".join(f'    "{k}": {v},\n' for k, v in platt.items()) + "}")


if __name__ == "__main__":
    main()
