"""Public benchmarks as customer-research tasks, as ../shared/datasets/README.md says to use
them: MAMS aspect categories (the 8 categories, each with a one-line plain description, are the
codebook; which categories a sentence speaks about, and the customer's polarity toward each)
and BANKING77 intents (10 examples per intent drawn from train with a fixed seed are the
codebook's examples; other train queries are coded). Each text is ingested as one feedback
record, the run codes it against the codebook like any feedback, and the figures come with
95% bootstrap intervals over the items (sentences, queries). Only train and validation parts
are read: the held-out test parts are never looked for.

Mentions under a name outside the codebook (engines before the codebook became the
catalogue filed what fits no code under library names) are not predictions of a category or
an intent: their share is `outside_codebook`.
"""

from __future__ import annotations

import csv
import random
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from valuestory.llm.models import ChatModel
from valuestory.project import Project
from valuestory.stats import Interval, bootstrap

from .metrics import calibration_error

# The MAMS codebook: the 8 categories in plain words (the same as the shared quality hook's).
MAMS_CODEBOOK = [
    ("food", "What they ate and drank: dishes, taste, freshness, portions, drinks"),
    ("service", "How they were served: speed, waiting, attention, orders, mistakes"),
    ("staff", "The people working there: waiters, hosts, bartenders, managers, their manner"),
    ("price", "What it cost: prices, value for money, the bill"),
    ("ambience", "How the place felt: atmosphere, decor, music, noise, lighting"),
    ("menu", "What was on offer: the menu, choice, specials, options"),
    ("place", "The place itself: location, tables, seating, space, the bar, the view"),
    ("miscellaneous", "Anything else about the visit: reservations, crowds, the visit overall"),
]
BANKING77_SEED = 2026  # the fixed seed of the few-shot split
BANKING77_SHOTS = 10  # examples per intent in the codebook
BANKING77_QUERIES = 40  # queries coded per intent (fewer where an intent has under 50): 3,056 in all

Codebook = list[tuple[str, str, str]]  # (name, description, examples separated by " | ")


def mams(path: Path) -> list[tuple[str, dict[str, str]]]:
    """MAMS-ACSA sentences (an XML file such as val.xml): (text, {category: polarity})."""
    root = ET.parse(path).getroot()
    return [((s.findtext("text") or "").strip(),
             {a.get("category", ""): a.get("polarity", "") for a in s.iter("aspectCategory")})
            for s in root.iter("sentence")]


def mams_codebook() -> Codebook:
    return [(name, description, "") for name, description in MAMS_CODEBOOK]


def banking77_fewshot(path: Path, shots: int = BANKING77_SHOTS, seed: int = BANKING77_SEED,
                      per_intent: int | None = BANKING77_QUERIES) -> tuple[Codebook, list[tuple[str, str]]]:
    """The few-shot split of BANKING77's train.csv (`text,category`): per intent (in sorted
    order), its queries shuffled with one `random.Random(seed)`; the first `shots` are the
    codebook's examples (name: the intent; description: its name in words), the next
    `per_intent` (all the rest with None) are queries to code, as (text, intent). A smaller
    `per_intent` takes the first queries of the same split."""
    by: dict[str, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            by.setdefault(row["category"].strip(), []).append(row["text"].strip())
    rng, codebook, queries = random.Random(seed), [], []
    for intent in sorted(by):
        texts = by[intent][:]
        rng.shuffle(texts)
        codebook.append((intent, intent.replace("_", " "), " | ".join(texts[:shots])))
        rest = texts[shots:] if per_intent is None else texts[shots:shots + per_intent]
        queries += [(t, intent) for t in rest]
    return codebook, queries


def code_texts(texts: list[str], codebook: Codebook, llm: str = "offline", model: ChatModel | None = None,
               on_progress: Callable[[str, int, int], None] | None = None,
               embedding: str | None = None, recodes: list | None = None) -> tuple[list[list], dict]:
    """Each text as one feedback record in a scratch project, run with the codebook (and
    the recoding decisions `recodes`, made before the run): the mentions of each text (in
    order), and what made them (engine, model)."""
    from valuestory.ingest.ingest import ingest
    from valuestory.pipeline.run import run
    from valuestory.stores.recodes import RecodeStore
    from valuestory.stores.runs import RunStore
    with tempfile.TemporaryDirectory(prefix="valuestory-public-") as tmp:
        folder = Path(tmp)
        with (folder / "items.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "text"])
            writer.writerows([f"x{i}", t] for i, t in enumerate(texts))
        with (folder / "codebook.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["name", "description", "examples"])
            writer.writerows(codebook)
        project = Project(folder / "project")
        project.create()
        if embedding:
            project.config.store.embedding = embedding
        try:
            ingest(project, [folder / "items.csv"], kind="feedback", mapping={"id": "id", "text": "text"})
            for r in recodes or []:
                RecodeStore(project.ledger).add(r)
            run(project, llm, codebook=folder / "codebook.csv", on_progress=on_progress, model=model)
            reader = RunStore(project.ledger).latest()
            coded: list[list] = [[] for _ in texts]
            for m in reader.coding.mentions:
                coded[int(m.record_id.rsplit(":x", 1)[1])].append(m)
            about = {"engine": reader.info.engine, "model": reader.info.model, "scale": reader.coding.scale}
        finally:
            project.ledger.close()
    return coded, about


def _top(mentions: list, names: set[str]) -> dict[str, object]:
    """Per codebook name, the highest-confidence mention under it (the later one on a tie)."""
    best: dict[str, object] = {}
    for m in mentions:
        if m.touchpoint in names and m.confidence >= getattr(best.get(m.touchpoint), "confidence", -1.0):
            best[m.touchpoint] = m
    return best


def _ece(outcomes: list[list[tuple[float, bool]]], n: int) -> Interval:
    """Whether a mention's confidence is the probability it is right: the expected calibration
    error of every mention's (confidence, right), with an interval resampling the items."""
    return bootstrap(lambda per_item: calibration_error([o for item in per_item for o in item]), outcomes, n)


def _outside(coded: list[list], names: set[str]) -> Interval:
    mentions = [m for ms in coded for m in ms]
    return Interval(value=sum(m.touchpoint not in names for m in mentions) / len(mentions) if mentions else None,
                    n=len(mentions))


def score_mams(items: list[tuple[str, dict[str, str]]], coded: list[list], n: int = 1000) -> dict[str, Interval]:
    """Category precision, recall and F1, micro over sentences (a sentence's predicted
    categories: the codebook names it has mentions under), and polarity accuracy on the
    categories both the labels and the run found (the polarity of the category's
    highest-confidence mention); intervals resample sentences."""
    names = {name for name, _ in MAMS_CODEBOOK}
    pairs = [(gold, {c: m.polarity for c, m in _top(ms, names).items()}) for (_, gold), ms in zip(items, coded, strict=True)]

    def counts(ps):
        tp = sum(len(g.keys() & p.keys()) for g, p in ps)
        return tp, sum(len(p.keys() - g.keys()) for g, p in ps), sum(len(g.keys() - p.keys()) for g, p in ps)

    def f1(ps):
        tp, fp, fn = counts(ps)
        return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None

    def precision(ps):
        tp, fp, _ = counts(ps)
        return tp / (tp + fp) if tp + fp else None

    def recall(ps):
        tp, _, fn = counts(ps)
        return tp / (tp + fn) if tp + fn else None

    def polarity(ps):
        both = [(g[c], p[c]) for g, p in ps for c in g.keys() & p.keys()]
        return sum(a == b for a, b in both) / len(both) if both else None

    outcomes = [[(m.confidence, m.touchpoint in gold) for m in ms if m.touchpoint in names]
                for (_, gold), ms in zip(items, coded, strict=True)]
    return {"category_f1": bootstrap(f1, pairs, n), "category_precision": bootstrap(precision, pairs, n),
            "category_recall": bootstrap(recall, pairs, n), "polarity_accuracy": bootstrap(polarity, pairs, n),
            "confidence_ece": _ece(outcomes, n), "outside_codebook": _outside(coded, names)}


def score_banking77(queries: list[tuple[str, str]], codebook: Codebook, coded: list[list], n: int = 1000
                    ) -> dict[str, Interval]:
    """Accuracy: the query's intent is the intent of its highest-confidence mention under an
    intent of the codebook (a query with none is wrong); `coverage` is the share of queries
    with such a mention. Intervals resample queries."""
    names = {name for name, _, _ in codebook}
    predicted = []
    for (_, gold), ms in zip(queries, coded, strict=True):
        top = _top(ms, names)
        best = max(top.values(), key=lambda m: m.confidence, default=None)
        predicted.append((gold, best.touchpoint if best is not None else None))
    outcomes = [[(m.confidence, m.touchpoint == gold) for m in ms if m.touchpoint in names]
                for (_, gold), ms in zip(queries, coded, strict=True)]
    return {"accuracy": bootstrap(lambda ps: sum(g == p for g, p in ps) / len(ps), predicted, n),
            "coverage": bootstrap(lambda ps: sum(p is not None for _, p in ps) / len(ps), predicted, n),
            "confidence_ece": _ece(outcomes, n), "outside_codebook": _outside(coded, names)}
