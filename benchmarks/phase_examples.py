"""Would phases learned from labelled examples beat the phase cues? Dev parts only.

    .venv/bin/python benchmarks/phase_examples.py [DATASET_DIR ...]

Each dataset's dev split is cut in two halves (units shuffled with seed 0); each half's
labelled phases teach a classifier over the embedding that places the other half's units, and
the phase macro-F1 of the whole dev split is printed for the engine's cues (as
`valuestory eval` scores them) and for each way of learning: nearest neighbours (k votes
weighted by similarity) and nearest class mean, either placing every unit or only those the
cues leave unknown ("fill"), or, for the class mean, where it wins by a margin. Defaults to
Oakhaven (../shared/datasets/oakhaven) and the sample. Nothing of a test split is read.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from valuestory.evaluations.dataset import load_dataset
from valuestory.evaluations.harness import NameMatcher, make_embedder, predict, scratch_run
from valuestory.evaluations.metrics import macro_f1

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = [ROOT.parent / "shared" / "datasets" / "oakhaven", ROOT / "data_samples"]
NEIGHBOURS = (1, 5, 15)
MARGIN = 0.05  # of cosine similarity between the nearest class mean and the next


def learned(vectors: np.ndarray, phases: list[str], train: list[int], test: list[int], how: str) -> dict[int, str]:
    """Each test unit's phase as learned from the train units, by `how`: "knn-K" or "mean"."""
    sims = vectors[test] @ vectors[train].T
    if how.startswith("knn"):
        k = int(how.split("-")[1])
        out = {}
        for row, i in enumerate(test):
            votes: Counter = Counter()
            for j in np.argsort(-sims[row])[:k]:
                votes[phases[train[j]]] += float(sims[row, j])
            out[i] = votes.most_common(1)[0][0]
        return out
    classes = sorted({phases[j] for j in train})
    means = np.stack([vectors[[j for j in train if phases[j] == c]].mean(0) for c in classes])
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    scores = vectors[test] @ means.T
    return {i: classes[int(np.argmax(scores[row]))] + ("" if np.ptp(np.sort(scores[row])[-2:]) > MARGIN else "?")
            for row, i in enumerate(test)}


def measure(root: Path) -> None:
    dataset = load_dataset(root)
    with scratch_run(dataset) as (project, run, dataset):
        embed = make_embedder(project.config.store.embedding).embed
        gold = [u for u in dataset.split("dev") if u.phase]
        predicted = predict(project, run, gold, NameMatcher(sorted({t for u in dataset.units for t in u.touchpoints}),
                                                            embed))
        records = {r.record_id: r for r in project.ledger.records()}

        def text(u) -> str:
            r = records[u.record_id]
            return r.text if u.turn is None else r.text[r.turns[u.turn].start:r.turns[u.turn].end]

        vectors = embed([text(u) for u in gold])
        phases = [u.phase for u in gold]
        cues = [predicted[u.unit].phase for u in gold]
        order = list(range(len(gold)))
        random.Random(0).shuffle(order)
        halves = (order[::2], order[1::2])
        print(f"{root.name} dev: {len(gold)} units, {dict(Counter(phases))}")
        print(f"  cues: {macro_f1(phases, cues):.3f}")
        for how in [f"knn-{k}" for k in NEIGHBOURS] + ["mean"]:
            guesses = {**learned(vectors, phases, halves[0], halves[1], how),
                       **learned(vectors, phases, halves[1], halves[0], how)}
            modes = ("all", "fill", "margin") if how == "mean" else ("all", "fill")
            for mode in modes:
                out = [g.rstrip("?") if mode == "all" or (mode == "fill" and c == "unknown")
                       or (mode == "margin" and not g.endswith("?")) else c
                       for c, g in zip(cues, (guesses[i] for i in range(len(gold))), strict=True)]
                print(f"  {how} {mode}: {macro_f1(phases, out):.3f}")


if __name__ == "__main__":
    for path in [Path(p) for p in sys.argv[1:]] or [p for p in DEFAULTS if p.exists()]:
        measure(path)
