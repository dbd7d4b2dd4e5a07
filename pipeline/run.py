"""`valuestory run`: the method's stages in order, recorded as one run.

The one place where a run does I/O: it builds the corpus from the stores, resolves each stage
for the chosen engine, creates one model runner, passes artefacts from stage to stage, and
records every stage's output with what made it. `plan` does the same without calling a
model: the requests each stage would send, priced by the runner.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from valuestory import __version__, prompts
from valuestory.codebook import load_codebook
from valuestory.errors import ValuestoryError
from valuestory.llm.models import ChatModel, OpenAIChat, make_model
from valuestory.llm.runner import Answer, Runner
from valuestory.project import Project
from valuestory.stores.embeddings import make_embedder
from valuestory.stores.lock import writing
from valuestory.stores.recodes import RecodeStore
from valuestory.stores.runs import RunStore

from . import METHOD
from .artefacts import Coding, Provenance, RunSummary, Scorecard
from .contract import Corpus, Stage, StoredChunks, stages
from .mentions.learned import lessons
from .slices import Slice, cut_corpus

Progress = Callable[[str, int, int], None]


class Artefacts(dict):
    """The stages' outputs by name, the corpus first. One taken unchanged from an earlier run
    is read from the ledger only when something asks for it: an unchanged re-run of a large
    corpus copies its outputs without holding them."""

    def __init__(self, corpus: Corpus, store: RunStore) -> None:
        super().__init__(corpus=corpus)
        self.store = store
        self.earlier: dict[str, str] = {}  # stage -> the run whose output it takes

    def __missing__(self, stage: str) -> BaseModel:
        if stage not in self.earlier:
            raise KeyError(stage)
        self[stage] = output = self.store.output(self.earlier[stage], stage)
        return output


@dataclass
class RunResult:
    run_id: str
    engine: str
    model: str
    summary: RunSummary
    calls: dict
    artefacts: Artefacts

    @property
    def coding(self) -> Coding:
        return self.artefacts["catalogue"]

    @property
    def scorecard(self) -> Scorecard:
        return self.artefacts["scores"]

    @property
    def groundedness(self) -> float:
        return self.summary.groundedness

    @property
    def dropped_quotes(self) -> int:
        return self.summary.dropped_quotes


def corpus_from(project: Project, codebook: Path | None = None) -> Corpus:
    """The read-only corpus the stages see, from the project's stores."""
    ledger = project.ledger
    embedder = make_embedder(project.config.store.embedding)

    def nearest(vector: np.ndarray, record_ids: Sequence[str], k: int) -> list[tuple[str, str, int, int]]:
        # the vector store opens on the first question: offline runs never need it
        hits = project.vectors.query(vector[None, :], k, {"record_id": {"$in": list(record_ids)}})
        chunks = ledger.chunks_by_id([h.chunk_id for h in hits])
        return [(c["chunk_id"], c["record_id"], c["start"], c["end"]) for h in hits if (c := chunks.get(h.chunk_id))]

    return Corpus(records=tuple(ledger.records()), embed=embedder.embed,
                  chunks=StoredChunks(ledger.chunk_refs), nearest=nearest,
                  codebook=tuple(load_codebook(codebook)) if codebook else None,
                  personas=tuple(project.config.personas), embedding=embedder.name,
                  recodes=tuple(RecodeStore(ledger).active()), request_tokens=project.config.run.request_tokens)


class IncompleteRun(ValuestoryError):
    """Model calls that still failed after their retries (the endpoint down, rate limits that
    did not lift, timeouts): the run is not taken. (An answer that stays invalid after its
    re-asks is the model's, and the stage's offline engine covers it.) A silently smaller
    analysis would replace a good one; the answers so far are cached, so running again sends
    only what is missing."""

    def __init__(self, stage: str, failed: list[Answer], total: int) -> None:
        # a request whose context knows the records it reads (the mentions stage's) says how many
        records = {rid for a in failed for rid in getattr(a.request.context, "record_ids", ())}
        about = f" covering {len(records)} records" if records else ""
        super().__init__(
            f"the run is incomplete: {len(failed)} of {total} {stage} requests{about} failed after their retries "
            f"({failed[0].error}). The previous complete run stays the one reports and exports use; run "
            "`valuestory run` again to send only what is missing (the answers so far are cached)")
        self.stage, self.failed, self.total, self.records = stage, len(failed), total, len(records)


def run_stage(stage: Stage, artefacts: dict[str, object], runner: Runner | None, embedding: str
              ) -> tuple[Provenance, BaseModel]:
    """One stage on the chosen engine: on the model where it has a model engine and a model
    was chosen, with its offline implementation as the fallback; else offline."""
    inputs = {k: artefacts[k] for k in stage.needs}
    started = time.perf_counter()
    if runner is not None and stage.model is not None:
        answers = runner.run(stage.model.requests(**inputs))
        if failed := [a for a in answers if a.unanswered]:
            raise IncompleteRun(stage.name, failed, len(answers))
        output = stage.model.parse(answers, lambda: stage.offline(**inputs), **inputs)
        provenance = Provenance(stage=stage.name, version=stage.version, engine="llm", model=runner.model.name,
                                prompts=list(stage.model.prompts))
    else:
        output = stage.offline(**inputs)
        provenance = Provenance(stage=stage.name, version=stage.version, engine="offline", model=embedding)
    provenance.seconds = round(time.perf_counter() - started, 3)
    return provenance, output


def run(project: Project, llm: str = "offline", codebook: Path | None = None,
        on_progress: Progress | None = None, model: ChatModel | None = None, batch: bool = False,
        cut: Slice | None = None) -> RunResult:
    """Run every stage of the method on the project's records (or a slice of them) and record
    the run. `model` overrides `llm` with a chat model object (a test double, a plug-in's).
    With `batch`, a model stage's uncached requests go to the OpenAI Batch API first
    (`llm.batch`). Holds the project's write lock: an ingest started meanwhile waits."""
    with writing(project.store_dir, "run"):
        return _run(project, llm, codebook, on_progress, model, batch, cut)


def _runner(project: Project, model: ChatModel, run_id: str, on_progress: Progress | None,
            batch: bool = False) -> Runner:
    """The runner with the project's [run] settings; an HTTP model gets its timeout."""
    cfg = project.config.run
    if isinstance(model, OpenAIChat) and model.timeout != cfg.timeout:
        model = dataclasses.replace(model, timeout=cfg.timeout, client=None)
    batcher = None
    if batch:
        if not isinstance(model, OpenAIChat):
            raise ValuestoryError("--batch needs an OpenAI or compatible model (--llm openai:MODEL or compat:MODEL@URL)")
        from valuestory.llm.batch import Batcher
        batcher = Batcher(model, project.ledger)
    return Runner(model, project.ledger, run_id, concurrency=cfg.concurrency, retries=cfg.retries,
                  backoff=cfg.backoff, on_progress=on_progress, batcher=batcher)


def _run(project: Project, llm: str, codebook: Path | None, on_progress: Progress | None,
         model: ChatModel | None, batch: bool = False, cut: Slice | None = None) -> RunResult:
    model = model or make_model(llm)
    store = RunStore(project.ledger)
    store.abandon_running()  # this run holds the write lock: any other `running` one was killed
    run_id = f"run-{uuid.uuid4().hex[:12]}"
    resolved = [stages.get(name) for name in METHOD]
    prompts = {s.name: list(s.model.prompts) for s in resolved if s.model} if model else {}
    corpus = corpus_from(project, codebook)
    if not corpus.records:
        raise ValuestoryError("nothing to run: the project holds no records yet. Ingest research files first: "
                              "`valuestory ingest FILES_OR_FOLDERS`, or declare [[sources]] in valuestory.toml")
    if cut:  # a persona is a whole-corpus notion: assigned first, then the records cut
        corpus = cut_corpus(corpus, cut, stages.get("personas").offline(corpus=corpus).persona_of)
    # the model that made it: the chat model, or for the offline engine the embedding it read with
    store.start(run_id, "llm" if model else "offline", model.name if model else corpus.embedding, prompts,
                project.ledger.inputs(), str(codebook) if codebook else None)
    try:
        runner = _runner(project, model, run_id, on_progress, batch) if model else None
        artefacts = Artefacts(corpus, store)
        made_from: dict[str, str] = {"corpus": corpus_hash(corpus), "recodes": recodes_hash(corpus),
                                     "lessons": lessons(corpus.recodes).digest()}
        outputs: list[tuple[Provenance, BaseModel | str, str]] = []
        earlier: dict[str, RunSummary | None] = {}  # a stage taken from an earlier run: that run's summary
        for number, stage in enumerate(resolved, start=1):
            label = f"{number}/{len(resolved)} {stage.name}"  # a bar per stage; a model's calls advance it
            if on_progress:
                on_progress(label, 0, 1)
            made_from[stage.name] = key = stage_key(stage, made_from, model.name if model else corpus.embedding)
            # A stage made offline is made again only from other inputs; one on a model is
            # always asked (its answers come from the cache, and one that failed is asked anew).
            offline = runner is None or stage.model is None
            if offline and (done := store.made_from(stage.name, key)) is not None:
                source, made_by, earlier[stage.name] = done
                artefacts.earlier[stage.name] = source
                outputs.append((Provenance(stage=stage.name, seconds=0.0, **made_by), source, key))
            else:
                provenance, artefacts[stage.name] = run_stage(stage, artefacts, runner, corpus.embedding)
                outputs.append((provenance, artefacts[stage.name], key))
            if on_progress:
                on_progress(label, 1, 1)
        summary = _summary(artefacts, earlier, cut)
        store.finish(run_id, outputs, summary)
    except BaseException as exc:
        store.fail(run_id, f"{type(exc).__name__}: {exc}")
        raise
    return RunResult(run_id, "llm" if model else "offline", model.name if model else corpus.embedding, summary,
                     project.ledger.call_totals(run_id), artefacts)


def _summary(artefacts: Artefacts, earlier: dict[str, RunSummary | None], cut: Slice | None) -> RunSummary:
    """The run's summary; counts of an output taken from an earlier run are that run's (the
    same output), so it need not be read."""
    card: Scorecard = artefacts["scores"]
    if (taken := earlier.get("catalogue")) and "catalogue" not in artefacts:
        shown, dropped, touchpoints = taken.mentions, taken.dropped_quotes, taken.touchpoints
    else:
        coding: Coding = artefacts["catalogue"]
        shown, dropped, touchpoints = len(coding.mentions), coding.dropped, len(coding.touchpoints)
    journey = earlier.get("journey")
    decisions = journey.decisions if journey and "journey" not in artefacts else len(artefacts["journey"].decisions)
    groundedness = shown / (shown + dropped) if shown + dropped else 1.0
    return RunSummary(mentions=shown, dropped_quotes=dropped, groundedness=round(groundedness, 4),
                      fix_first=card.fix_first, easy_fixes=card.easy_fixes, overall_nps=card.overall_nps,
                      touchpoints=touchpoints, decisions=decisions, slice=cut.label if cut else "")


def corpus_hash(corpus: Corpus) -> str:
    """What the corpus is, for the stages that read it: every record's content, the chunks and
    their ingest batches, the codebook, the personas and the embedding."""
    h = hashlib.sha256(corpus.embedding.encode())
    for r in corpus.records:
        h.update(r.content_hash().encode())
    for c in corpus.chunks:
        h.update(f"{c.chunk_id}|{c.start}|{c.end}|{c.batch}".encode())
    h.update(json.dumps([t.model_dump(mode="json") for t in corpus.codebook or ()], sort_keys=True).encode())
    h.update(json.dumps([p.model_dump(mode="json") for p in corpus.personas], sort_keys=True).encode())
    return h.hexdigest()


def recodes_hash(corpus: Corpus) -> str:
    return hashlib.sha256(json.dumps([r.model_dump(mode="json") for r in corpus.recodes]).encode()).hexdigest()


def stage_key(stage: Stage, made_from: dict[str, str], engine: str) -> str:
    """A stage's output is fixed by its version, its engine (with the prompt templates' own
    hashes), what its inputs were made from, and for the stage that applies them the
    researcher's recoding decisions, and for the stage that learns from them what they teach."""
    templates = [prompts.digest(p) for p in stage.model.prompts] if stage.model else []
    # valuestory's own version too: an upgrade makes every output again, whatever its stage says
    parts = [__version__, stage.name, stage.version, engine, *templates, *(f"{k}={made_from[k]}" for k in stage.needs)]
    if stage.recoded:
        parts.append(f"recodes={made_from['recodes']}")
    if stage.learns:
        parts.append(f"lessons={made_from['lessons']}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def plan(project: Project, llm: str, codebook: Path | None = None, model: ChatModel | None = None) -> list[dict]:
    """Per model-backed stage, what a run would send, without sending it: its requests built
    by the stage, priced by the runner. Later stages are planned from the offline engine's
    artefacts of the stages before them (a model's would differ a little)."""
    model = model or make_model(llm)
    if model is None:
        return []
    corpus = corpus_from(project, codebook)
    runner = Runner(model, project.ledger, "dry-run")
    artefacts: dict[str, object] = {"corpus": corpus}
    out = []
    for name in METHOD:
        stage = stages.get(name)
        inputs = {k: artefacts[k] for k in stage.needs}
        if stage.model is not None:
            out.append({"stage": name, "prompts": list(stage.model.prompts),
                        **runner.plan(stage.model.requests(**inputs))})
        artefacts[name] = stage.offline(**inputs)
    return out
