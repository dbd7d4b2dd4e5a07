"""The evaluation harness: a run's output against hand labels, unit by unit.

`predict` reads what a finished run stored (mentions, decisions, scores, value maps) and
turns it into the labels' terms: per unit, the touchpoints (matched to the gold catalogue by
name, then by meaning), their sentiment, the unit's phase and decisions. `evaluate` computes
every metric with a bootstrap interval, overall and per source kind. `evaluate_dataset` runs
the pipeline on a dataset in a scratch project first: inductive, or with the dataset's
catalogue as the run's codebook.
"""

from __future__ import annotations

import csv
import hashlib
import re
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from valuestory.llm.models import ChatModel
from valuestory.pipeline.journey import DECISION_PHASE, SOURCE_PHASE
from valuestory.pipeline.mentions.cues import polarity
from valuestory.pipeline.mentions.discover import singular
from valuestory.pipeline.recode import Recode
from valuestory.project import Project
from valuestory.stats import Interval, bootstrap
from valuestory.stores.embeddings import make_embedder
from valuestory.stores.recodes import RecodeStore
from valuestory.stores.runs import RunReader, RunStore

from .dataset import Dataset, GoldUnit
from .metrics import accuracy, calibration_error, cohen_kappa, macro_f1, macro_f1_sets, mean_absolute_error, prf, spearman

NAME_MATCH = 0.5  # a predicted touchpoint name this close in meaning to a gold name is that touchpoint
JOB_MATCH = 0.5  # a produced job this close in meaning to a gold job expresses it


@dataclass
class Predicted:
    touchpoints: dict[str, float] = field(default_factory=dict)  # gold name -> mean sentiment
    phase: str = "unknown"
    decisions: set[str] = field(default_factory=set)
    outcomes: list[tuple[float, bool]] = field(default_factory=list)  # per mention: (confidence, right)
    quotes: dict[str, str] = field(default_factory=dict)  # gold name (or the run's, unmatched) -> a quote
    run_names: dict[str, str] = field(default_factory=dict)  # gold name -> the run's name for it
    unmatched: dict[str, str] = field(default_factory=dict)  # the run's names no gold name fits -> a quote


class NameMatcher:
    """Predicted touchpoint names onto the gold catalogue: the same name (ignoring case); else
    the gold touchpoint whose name, then description, holds every word of it ("Dispatch
    board" is in "The schedule, dispatch board, ..."); else the gold touchpoint closest in
    meaning when at least `threshold` close; else no match."""

    def __init__(self, gold: list[str], embed, threshold: float = NAME_MATCH,
                 descriptions: dict[str, str] | None = None) -> None:
        self.gold, self.embed, self.threshold = gold, embed, threshold
        descriptions = descriptions or {}
        texts = gold + [f"{g}: {descriptions.get(g) or g}" for g in gold]
        self.vectors = embed(texts) if gold else None
        self.words = [(_words(g), _words(descriptions.get(g, ""))) for g in gold]
        self.by_lower = {g.lower(): g for g in gold}
        self.cache: dict[str, str | None] = {}
        self.how: dict[str, tuple[str, float | None]] = {}  # name -> how it matched, and the similarity

    def __call__(self, name: str) -> str | None:
        if name not in self.cache:
            self.cache[name] = self._match(name)
        return self.cache[name]

    def matches(self) -> list[dict]:
        """Every name seen, what it matched and how: `name`, `words` (its words in a gold name or
        description) or `meaning` (with the similarity), or `none` (the closest was too far)."""
        return [{"name": name, "matched": self.cache[name], "how": how, "similarity": sim}
                for name, (how, sim) in sorted(self.how.items())]

    def _match(self, name: str) -> str | None:
        if exact := self.by_lower.get(name.lower()):
            self.how[name] = ("name", None)
            return exact
        words = _words(name)
        sims = self.vectors @ self.embed([name])[0] if self.vectors is not None else None
        for part in (0, 1):  # every word in a gold name, then in a description: the tightest fit
            fits = [i for i, w in enumerate(self.words) if words and words <= w[part]]
            if fits:
                closeness = [-float(sims[i + part * len(self.gold)]) if sims is not None else 0.0 for i in fits]
                extra = [len(self.words[i][part] - words) if part == 0 else 0 for i in fits]
                self.how[name] = ("words", None)
                return self.gold[fits[min(range(len(fits)), key=lambda k: (extra[k], closeness[k]))]]
        if sims is None:
            self.how[name] = ("none", None)
            return None
        best = int(np.argmax(sims))
        close = round(float(sims[best]), 3)
        self.how[name] = ("meaning" if close >= self.threshold else "none", close)
        return self.gold[best % len(self.gold)] if close >= self.threshold else None


FUNCTION_WORDS = {"and", "the", "of", "a", "an", "to", "or", "in"}


def _words(text: str) -> set[str]:
    """Content words, singular."""
    return {singular(w) for w in re.findall(r"[a-z]+", text.lower()) if w not in FUNCTION_WORDS}


def unit_namer(project: Project, gold: list[GoldUnit]) -> Callable[[str, int], str]:
    """Which gold unit the words at (record, offset) belong to: interview units are turns."""
    records = {r.record_id: r for r in project.ledger.records()}
    turn_units = {u.record_id for u in gold if u.turn is not None}

    def unit_of(record_id: str, start: int) -> str:
        record = records.get(record_id)
        if record_id in turn_units and record is not None:
            for i, t in enumerate(record.turns):
                if t.start <= start < t.end:
                    return f"{record_id}#t{i}"
        return record_id
    return unit_of


def predict(project: Project, run: RunReader, gold: list[GoldUnit], match: NameMatcher) -> dict[str, Predicted]:
    """What the run says about each gold unit. Interview units are turns: a mention or
    decision belongs to the turn its quote starts in."""
    unit_of = unit_namer(project, gold)

    sentiments: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    phases: dict[str, Counter] = defaultdict(Counter)
    coded: dict[str, list[tuple[str | None, float]]] = defaultdict(list)
    quotes: dict[str, dict[str, str]] = defaultdict(dict)
    run_names: dict[str, dict[str, str]] = defaultdict(dict)
    unmatched: dict[str, dict[str, str]] = defaultdict(dict)
    for m, place in zip(run.coding.mentions, run.journey.placements, strict=True):
        unit = unit_of(m.record_id, m.start)
        coded[unit].append((name := match(m.touchpoint), m.confidence))
        if name is not None:
            sentiments[unit][name].append(m.sentiment)
            quotes[unit].setdefault(name, m.quote)
            run_names[unit].setdefault(name, m.touchpoint)
        else:
            unmatched[unit].setdefault(m.touchpoint, m.quote)
        if place.phase != "unknown":
            phases[unit][place.phase] += 1
    decisions: dict[str, list[str]] = defaultdict(list)
    for d in sorted(run.journey.decisions, key=lambda d: (d.record_id, d.position)):
        decisions[unit_of(d.record_id, d.start)].append(d.decision)
    out = {}
    for u in gold:
        said = decisions.get(u.unit, [])
        # A unit that holds a decision sits in the phase the decision ends, as in the labels.
        phase = DECISION_PHASE[said[0]] if said else (phases[u.unit].most_common(1)[0][0] if phases[u.unit]
                                                       else SOURCE_PHASE.get(u.kind, "unknown"))
        out[u.unit] = Predicted({n: float(np.mean(v)) for n, v in sentiments[u.unit].items()}, phase, set(said),
                                [(c, name in u.touchpoints) for name, c in coded[u.unit]], quotes[u.unit],
                                run_names[u.unit], unmatched[u.unit])
    return out


Pair = tuple[GoldUnit, Predicted]


def unit_metrics(pairs: list[Pair], n: int = 1000) -> dict[str, Interval]:
    """Every per-unit metric with its bootstrap interval over units."""
    def tp_sets(ps: list[Pair]):
        return [set(g.touchpoints) for g, _ in ps], [set(p.touchpoints) for _, p in ps]

    def polar(ps: list[Pair]):  # on the touchpoints both found, where the gold has a polarity
        return [(g.touchpoints[t], p.touchpoints[t]) for g, p in ps for t in g.touchpoints.keys() & p.touchpoints.keys()
                if g.touchpoints[t] is not None]

    def sign(x: float) -> str:
        return "negative" if x < 0 else "positive" if x > 0 else "neutral"

    phased = [(g, p) for g, p in pairs if g.phase is not None]
    labelled = [(g, p) for g, p in pairs]
    out = {
        "touchpoint_precision": bootstrap(lambda ps: prf(*tp_sets(ps))[0], labelled, n),
        "touchpoint_recall": bootstrap(lambda ps: prf(*tp_sets(ps))[1], labelled, n),
        "touchpoint_f1": bootstrap(lambda ps: prf(*tp_sets(ps))[2], labelled, n),
        "touchpoint_macro_f1": bootstrap(lambda ps: macro_f1_sets(*tp_sets(ps)), labelled, n),
        "polarity_accuracy": bootstrap(lambda ps: accuracy(*_unzip([(sign(g), polarity(p)) for g, p in polar(ps)]))
                                       if polar(ps) else None, labelled, n),
        "polarity_macro_f1": bootstrap(lambda ps: macro_f1(*_unzip([(sign(g), polarity(p)) for g, p in polar(ps)]))
                                       if polar(ps) else None, labelled, n),
        "polarity_kappa": bootstrap(lambda ps: cohen_kappa(*_unzip([(sign(g), polarity(p)) for g, p in polar(ps)]))
                                    if polar(ps) else None, labelled, n),
        "sentiment_mae": bootstrap(lambda ps: mean_absolute_error(*_unzip([(g / 2, p) for g, p in polar(ps)]))
                                   if polar(ps) else None, labelled, n),
        "confidence_ece": bootstrap(lambda ps: calibration_error([o for _, p in ps for o in p.outcomes]), labelled, n),
        "phase_accuracy": bootstrap(lambda ps: accuracy([g.phase for g, _ in ps], [p.phase for _, p in ps]), phased, n),
        "phase_macro_f1": bootstrap(lambda ps: macro_f1([g.phase for g, _ in ps], [p.phase for _, p in ps]), phased, n),
        "phase_kappa": bootstrap(lambda ps: cohen_kappa([g.phase for g, _ in ps], [p.phase for _, p in ps]), phased, n),
    }
    if any(g.decisions for g, _ in pairs) or any(p.decisions for _, p in pairs):
        def dec(ps: list[Pair]):
            return [g.decisions for g, _ in ps], [p.decisions for _, p in ps]
        out["decision_precision"] = bootstrap(lambda ps: prf(*dec(ps))[0], labelled, n)
        out["decision_recall"] = bootstrap(lambda ps: prf(*dec(ps))[1], labelled, n)
        out["decision_f1"] = bootstrap(lambda ps: prf(*dec(ps))[2], labelled, n)
    out["touchpoint_pairs"] = Interval(value=sum(len(g.touchpoints) for g, _ in pairs), n=len(pairs))
    return out


def _unzip(pairs: list[tuple]) -> tuple[list, list]:
    return [a for a, _ in pairs], [b for _, b in pairs]


def groundedness(project: Project, run: RunReader, record_ids: set[str] | None = None, n: int = 1000) -> Interval:
    """Share of the run's quotes that are verbatim at their span in the cited record."""
    texts = {r.record_id: r.text for r in project.ledger.records()}
    checks = [texts.get(m.record_id, "")[m.start:m.end] == m.quote for m in run.coding.mentions
              if record_ids is None or m.record_id in record_ids]
    return bootstrap(lambda cs: sum(cs) / len(cs), checks, n)


def priority_metrics(run: RunReader, dataset: Dataset, match: NameMatcher, n: int = 1000
                     ) -> dict[str, Interval]:
    """Rank correlation of the run's priority with the gold list, and the overlap of the top
    of both lists (as many as the gold list names)."""
    if not dataset.priority:
        return {}
    ranked: dict[str, int] = {}
    for s in (s for s in run.scores.scores if s.scope == "overall"):
        rank = s.rank
        name = match(s.touchpoint)
        if rank is not None and name is not None and name not in ranked:
            ranked[name] = rank
    unranked = max(ranked.values(), default=0) + 1
    items = [(i, ranked.get(name, unranked)) for i, name in enumerate(dataset.priority, start=1)]
    k = len(dataset.priority)
    top = {name for name, r in sorted(ranked.items(), key=lambda kv: kv[1])[:k]}
    return {"priority_spearman": bootstrap(lambda xs: spearman([a for a, _ in xs], [b for _, b in xs]), items, n),
            "priority_overlap": bootstrap(lambda names: sum(x in top for x in names) / len(names), list(dataset.priority), n)}


def job_metrics(run: RunReader, dataset: Dataset, embed, n: int = 1000) -> dict[str, Interval]:
    """Share of gold jobs (per persona) that a produced job of the same persona expresses."""
    produced: dict[str, list[str]] = defaultdict(list)
    for vm in run.value_maps.maps:
        produced[vm.persona or ""] += [j.job for j in vm.jobs]
    hits = []
    for persona in dataset.personas:
        jobs = produced.get(persona.name, [])
        vectors = embed(jobs) if jobs else None
        for job in persona.jobs:
            hits.append(bool(jobs) and float(np.max(vectors @ embed([job])[0])) >= JOB_MATCH)
    return {"job_match": bootstrap(lambda xs: sum(xs) / len(xs), hits, n)} if hits else {}


def catalogue_metrics(run: RunReader, match: NameMatcher) -> dict[str, Interval]:
    """How the touchpoint names the run induced line up with the gold catalogue: the share
    of induced names that match a gold touchpoint, and the share of gold touchpoints matched."""
    names = [t.name for t in run.coding.touchpoints]
    matched = {match(n) for n in names} - {None}
    return {"catalogue_precision": Interval(value=sum(match(x) is not None for x in names) / len(names) if names else None,
                                            n=len(names)),
            "catalogue_coverage": Interval(value=len(matched) / len(match.gold) if match.gold else None, n=len(match.gold))}


def evaluate(project: Project, run: RunReader, dataset: Dataset, split: str | None, embed, n: int = 1000) -> dict:
    """All metrics of one run against a dataset's labels: overall and per source kind."""
    gold = dataset.split(split)
    match = NameMatcher(dataset.catalogue, embed, descriptions=dataset.descriptions)
    predicted = predict(project, run, gold, match)
    pairs = [(u, predicted[u.unit]) for u in gold]
    metrics = unit_metrics(pairs, n)
    metrics["groundedness"] = groundedness(project, run, {u.record_id for u in gold}, n)
    metrics |= priority_metrics(run, dataset, match, n)
    metrics |= job_metrics(run, dataset, embed, n)
    metrics |= catalogue_metrics(run, match)
    by_kind = {}
    for kind in sorted({u.kind for u in gold}):
        subset = [(g, p) for g, p in pairs if g.kind == kind]
        grounded = groundedness(project, run, {g.record_id for g, _ in subset}, n)
        by_kind[kind] = unit_metrics(subset, n) | {"groundedness": grounded}
    return {"units": len(gold), "metrics": metrics, "by_kind": by_kind,
            "matching": {"touchpoint_name_threshold": NAME_MATCH, "job_threshold": JOB_MATCH}}


def write_codebook(dataset: Dataset, path: Path) -> Path:
    """The dataset's catalogue as a codebook CSV (`name, description, examples`, examples
    separated by ' | '), as a researcher with a codebook would give it to `valuestory run`."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "description", "examples"])
        for name in dataset.catalogue:
            writer.writerow([name, dataset.descriptions.get(name, ""), " | ".join(dataset.examples.get(name, []))])
    return path


def codebook_metrics(run: RunReader, dataset: Dataset, record_ids: set[str]) -> dict[str, Interval]:
    """With the catalogue as the codebook: the share of the scored units' mentions filed under a
    codebook name (any others carry names the run made up outside it)."""
    names = set(dataset.catalogue)
    mentions = [m for m in run.coding.mentions if m.record_id in record_ids]
    inside = sum(m.touchpoint in names for m in mentions)
    return {"codebook_share": Interval(value=inside / len(mentions) if mentions else None, n=len(mentions))}


def evaluate_dataset(dataset: Dataset, split: str | None, llm: str = "offline",
                     on_progress: Callable[[str, int, int], None] | None = None, n: int = 1000,
                     judge: bool = False, model: ChatModel | None = None, codebook: bool = False,
                     embedding: str | None = None) -> dict:
    """Ingest the dataset's corpus into a scratch project, run the pipeline, and evaluate;
    with `judge`, the run's model also scores its stories and hypotheses against the rubrics.
    `model` overrides `llm` with a chat model object. With `codebook`, the run codes against
    the dataset's own catalogue (deductive, as a researcher with a codebook runs it); without
    it, the run induces its touchpoints. `embedding` names another embedding than the default."""
    return evaluate_splits(dataset, [split], llm, on_progress, n, judge, model, codebook, embedding)[0]


@contextmanager
def scratch_run(dataset: Dataset, llm: str = "offline", codebook: bool = False, embedding: str | None = None,
                on_progress: Callable[[str, int, int], None] | None = None, model: ChatModel | None = None,
                recodes: Callable[[Dataset], list[Recode]] | None = None
                ) -> Iterator[tuple[Project, RunReader, Dataset]]:
    """The dataset's corpus ingested into a scratch project and run (with the dataset's
    catalogue as the codebook, with `codebook`; with the decisions `recodes` gives for the
    dataset as stored, before the run): the project, its run and the dataset with its labels'
    record ids as stored; deleted afterwards."""
    from valuestory.ingest.ingest import ingest
    from valuestory.pipeline.run import run as run_pipeline
    with tempfile.TemporaryDirectory(prefix="valuestory-eval-") as tmp:
        project = Project(Path(tmp) / "project")
        project.create()
        if embedding:
            project.config.store.embedding = embedding
        try:
            reports = ingest(project, [dataset.corpus])
            stored = dataset.with_record_ids({raw: new for r in reports for raw, new in r.renamed.items()})
            book = write_codebook(dataset, Path(tmp) / "codebook.csv") if codebook else None
            for r in recodes(stored) if recodes else []:
                RecodeStore(project.ledger).add(r)
            result = run_pipeline(project, llm, codebook=book, on_progress=on_progress, model=model)
            yield project, RunReader(project.ledger, result.run_id), stored
        finally:
            project.ledger.close()


def evaluate_splits(dataset: Dataset, splits: list[str | None], llm: str = "offline",
                    on_progress: Callable[[str, int, int], None] | None = None, n: int = 1000,
                    judge: bool = False, model: ChatModel | None = None, codebook: bool = False,
                    embedding: str | None = None) -> list[dict]:
    """`evaluate_dataset` for several splits from one run (the run codes the whole corpus; a
    split only chooses the units scored): one report per split, each with the run's seconds
    plus its own scoring's."""
    started = time.perf_counter()
    reports = []
    with scratch_run(dataset, llm, codebook, embedding, on_progress, model) as (project, run, dataset):
        embed = make_embedder(project.config.store.embedding).embed
        versions = _versions(run)
        origins = dict(sorted(Counter(t.origin for t in run.coding.touchpoints).items()))
        judged = judge_with(project, run, llm, model) if judge else {}  # of the run, once for every split
        ran = time.perf_counter() - started
        for split in splits:
            scoring = time.perf_counter()
            report = evaluate(project, run, dataset, split, embed, n)
            if codebook:
                report["metrics"] |= codebook_metrics(run, dataset, {u.record_id for u in dataset.split(split)})
            report["metrics"] |= judged
            report["touchpoint_origins"] = origins
            reports.append(record(report, dataset=str(dataset.root), split=split or "all", codebook=codebook,
                                  engine=run.info.engine, model=run.info.model, prompts=run.info.prompts,
                                  stages=versions, labels_hash=labels_hash(dataset.root),
                                  seconds=ran + time.perf_counter() - scoring))
    return reports


def judge_with(project: Project, run: RunReader, llm: str, model: ChatModel | None = None) -> dict[str, Interval]:
    from valuestory.errors import ValuestoryError
    from valuestory.llm.models import make_model

    from .judge import judge_run
    model = model or make_model(llm)
    if model is None:
        raise ValuestoryError("The judge needs a model: add --llm openai:MODEL or --llm compat:MODEL@URL")
    return judge_run(project, run, model, f"judge-{run.run_id}")


def _versions(run: RunReader) -> dict[str, str]:
    """Each stage's version and engine in the run: what an eval's figures were measured on."""
    return {p.stage: f"{p.version} ({p.engine})" for p in run.provenance()}


def labels_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted((root / "labels").glob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def record(report: dict, **about) -> dict:
    """An eval run as data: what was measured, with what, and when."""
    return {"eval_id": f"eval-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}",
            "at": time.strftime("%Y-%m-%dT%H:%M:%S"), **about, **report}


def label_corrections(project: Project, labels: list[GoldUnit]) -> list[Recode]:
    """A researcher's own coding as verdicts on the latest run's mentions (`learn.corrections`),
    for `eval --labels --learn`; a mention a decision in force already speaks of is left be."""
    from .learn import corrections
    run = RunStore(project.ledger).latest()
    match = NameMatcher(sorted({t for u in labels for t in u.touchpoints}),
                        make_embedder(project.config.store.embedding).embed)
    decided = {(r.record_id, t) for r in RecodeStore(project.ledger).active() for t in r.texts}
    fresh = [m for m in run.coding.mentions if (m.record_id, m.quote) not in decided]
    fit = tuple(run.coding.calibration[:2]) if run.coding.calibration else None
    return corrections(fresh, labels, unit_namer(project, labels), match, fit=fit, scale=run.coding.scale)


def evaluate_labels(project: Project, labels: list[GoldUnit], source: str, n: int = 1000,
                    judge_llm: str | None = None) -> dict:
    """A researcher's own coding against the latest run of their project: agreement per
    record on touchpoints (F1), polarity (accuracy, kappa) and phase (accuracy, kappa)."""
    from valuestory.errors import ValuestoryError
    run = RunStore(project.ledger).latest()
    texts = {r.record_id: r.text for r in project.ledger.records()}
    known = texts.keys()
    if missing := [u.record_id for u in labels if u.record_id not in known]:
        raise ValuestoryError(f"{source}: {len(missing)} record id(s) are not in this project, e.g. {missing[0]!r}. "
                              "Copy ids from `valuestory export records`")
    started = time.perf_counter()
    embed = make_embedder(project.config.store.embedding).embed
    names = sorted({t for u in labels for t in u.touchpoints})
    match = NameMatcher(names, embed)
    predicted = predict(project, run, labels, match)
    pairs = [(u, predicted[u.unit]) for u in labels]
    coded = coded_columns(labels)
    metrics = only_coded(unit_metrics(pairs, n), coded)
    if run.info.engine == "llm":  # offline, every quote is a span of its record by construction
        metrics["groundedness"] = groundedness(project, run, {u.record_id for u in labels}, n)
    if judge_llm:
        metrics |= judge_with(project, run, judge_llm)
    report = {"units": len(labels), "metrics": metrics, "coded": sorted(coded),
              "by_kind": {k: only_coded(unit_metrics([(g, p) for g, p in pairs if g.kind == k], n), coded)
                          for k in sorted({u.kind for u in labels})},
              "disagreements": disagreements(pairs, coded, texts),
              "matches": match.matches(),
              "matching": {"touchpoint_name_threshold": NAME_MATCH}}
    return record(report, dataset=source, split="labels", engine=run.info.engine, model=run.info.model,
                  prompts=run.info.prompts, stages=_versions(run), run_id=run.run_id,
                  labels_hash=hashlib.sha256(Path(source).read_bytes()).hexdigest()[:16],
                  seconds=time.perf_counter() - started)


# which metrics each column of a researcher's coding makes meaningful
METRICS_OF = {"touchpoint": ("touchpoint_", "confidence_ece"), "polarity": ("polarity_", "sentiment_mae"),
              "phase": ("phase_",), "decision": ("decision_",)}
QUOTE_CHARS = 160  # a record's opening shown where the run quoted nothing


def coded_columns(labels: list[GoldUnit]) -> set[str]:
    """The columns a researcher actually filled in."""
    coded = set()
    if any(u.touchpoints for u in labels):
        coded.add("touchpoint")
    if any(v is not None for u in labels for v in u.touchpoints.values()):
        coded.add("polarity")
    if any(u.phase for u in labels):
        coded.add("phase")
    if any(u.decisions for u in labels):
        coded.add("decision")
    return coded


def only_coded(metrics: dict, coded: set[str]) -> dict:
    """The metrics of the columns coded: none for a column left blank."""
    def wanted(name: str) -> bool:
        owners = [col for col, prefixes in METRICS_OF.items() if name.startswith(prefixes)]
        return not owners or owners[0] in coded
    return {k: v for k, v in metrics.items() if wanted(k) and (k != "touchpoint_pairs" or "touchpoint" in coded)}


def disagreements(pairs: list[Pair], coded: set[str], texts: dict[str, str]) -> list[dict]:
    """Each place the researcher and the run differ: record, what, the researcher's code, the
    run's code (its own name, with the researcher's it matched), and the words behind it."""
    def sign(x: float | None) -> str:
        return "" if x is None else "negative" if x < 0 else "positive" if x > 0 else "neutral"

    out = []
    for g, p in pairs:
        opening = " ".join(texts.get(g.record_id, "").split())[:QUOTE_CHARS]

        def row(what: str, user: str, ran: str, quote: str, g: GoldUnit = g) -> dict:
            return {"record_id": g.record_id, "unit": g.unit, "what": what, "user": user, "run": ran, "quote": quote}
        if "touchpoint" in coded:
            for name in sorted(set(g.touchpoints) - set(p.touchpoints)):
                out.append(row("touchpoint", name, "", opening))
            for name in sorted(set(p.touchpoints) - set(g.touchpoints)):
                ran = p.run_names[name]
                out.append(row("touchpoint", "", ran if ran == name else f"{ran} (= {name})", p.quotes.get(name, "")))
            for name, quote in sorted(p.unmatched.items()):
                out.append(row("touchpoint", "", name, quote))
        if "polarity" in coded:
            for name in sorted(set(g.touchpoints) & set(p.touchpoints)):
                said, ran = sign(g.touchpoints[name]), sign(p.touchpoints[name])
                if said and said != ran:
                    out.append(row("polarity", f"{name}: {said}", f"{p.run_names[name]}: {ran}", p.quotes.get(name, "")))
        if "phase" in coded and g.phase and g.phase != p.phase:
            out.append(row("phase", g.phase, p.phase, opening))
        if "decision" in coded and g.decisions != p.decisions:
            out.append(row("decision", ", ".join(sorted(g.decisions)), ", ".join(sorted(p.decisions)), opening))
    return out
