"""Runs in the ledger: a run's stage outputs are written here and read back here, typed.

`RunStore` records a run as it goes (started, each stage's artefact with its provenance,
finished or failed); `RunReader` gives the report, the exports and the evaluation harness
the artefacts of one finished run. Nothing else reads or writes a run's results.
"""

from __future__ import annotations

import json
import zlib

from pydantic import BaseModel, TypeAdapter

from valuestory.errors import ValuestoryError
from valuestory.pipeline.artefacts import (
    ARTEFACTS,
    Coding,
    Journey,
    Opportunities,
    Personas,
    Promises,
    Provenance,
    Roles,
    RunInfo,
    RunSummary,
    Scorecard,
    Stories,
    ValueMaps,
)
from valuestory.pipeline.slices import CUT, Slice, cut_artefacts
from valuestory.records import Record

from .ledger import Ledger, _now

RUN_COLUMNS = ("run_id", "started_at", "finished_at", "engine", "model", "prompts", "inputs", "codebook", "status",
               "summary")


class RunStore:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.db = ledger.db

    def start(self, run_id: str, engine: str, model: str, prompts: dict, inputs: dict, codebook: str | None) -> None:
        self.db.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (run_id, _now(), None, engine, model, json.dumps(prompts), json.dumps(inputs),
                         codebook, "running", None))

    def finish(self, run_id: str, outputs: list[tuple[Provenance, BaseModel | str, str]], summary: RunSummary) -> None:
        """A run's outputs land together, or not at all: (what made it, the output, the hash
        of what it was made from). An output taken unchanged from an earlier run is given as
        that run's id, and copied within the ledger without being read."""
        with self.ledger.transaction():
            for p, artefact, made_from in outputs:
                if isinstance(artefact, str):
                    self.db.execute("INSERT INTO artefacts SELECT ?, stage, engine, version, model, prompts, 0.0, data, "
                                    "inputs_hash FROM artefacts WHERE run_id = ? AND stage = ?", (run_id, artefact, p.stage))
                else:
                    self.db.execute("INSERT INTO artefacts VALUES (?,?,?,?,?,?,?,?,?)",
                                    (run_id, p.stage, p.engine, p.version, p.model, json.dumps(p.prompts), p.seconds,
                                     packed(artefact), made_from))
            self.db.execute("UPDATE runs SET finished_at = ?, status = 'done', summary = ? WHERE run_id = ?",
                            (_now(), summary.model_dump_json(), run_id))

    def abandon_running(self) -> int:
        """Mark runs still `running` as killed: called by a run that holds the project's write
        lock, so none of them can still be going (a killed process released the lock)."""
        n = self.db.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()[0]
        self.db.execute("UPDATE runs SET status = 'killed: stopped before it finished' WHERE status = 'running'")
        return n

    def fail(self, run_id: str, error: str) -> None:
        self.db.execute("UPDATE runs SET finished_at = ?, status = ?, summary = NULL WHERE run_id = ?",
                        (_now(), f"failed: {error}"[:500], run_id))

    def made_from(self, stage: str, inputs_hash: str) -> tuple[str, dict, RunSummary | None] | None:
        """The finished run that made this stage's output from the very same inputs: its id,
        what made the output, and that run's summary. The output itself is read only if asked
        for (`output`): an unchanged re-run copies it without reading it."""
        row = self.db.execute(
            "SELECT r.run_id, a.engine, a.version, a.model, a.prompts, r.summary FROM artefacts a JOIN runs r "
            "USING (run_id) WHERE a.stage = ? AND a.inputs_hash = ? AND r.status = 'done' "
            "ORDER BY r.finished_at DESC LIMIT 1", (stage, inputs_hash)).fetchone()
        if row is None:
            return None
        run_id, engine, version, model, prompts, summary = row
        made_by = {"engine": engine, "version": version, "model": model or "", "prompts": json.loads(prompts or "[]")}
        return run_id, made_by, RunSummary.model_validate_json(summary) if summary else None

    def output(self, run_id: str, stage: str) -> BaseModel:
        """One stage's output of a finished run."""
        row = self.db.execute("SELECT data FROM artefacts WHERE run_id = ? AND stage = ?", (run_id, stage)).fetchone()
        return ARTEFACTS[stage].model_validate_json(unpacked(row[0]))

    def _latest_id(self) -> str | None:
        row = self.db.execute("SELECT run_id FROM runs WHERE status = 'done' AND run_id IN "
                              "(SELECT run_id FROM artefacts) ORDER BY finished_at DESC, rowid DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def all(self) -> list[RunInfo]:
        """Every run, newest first, finished or not."""
        rows = self.db.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs ORDER BY started_at DESC, rowid DESC")
        return [_info(row) for row in rows.fetchall()]

    def get(self, run_id: str) -> RunReader:
        """A finished run by its id, or by a unique start of it (`run-3f2a`)."""
        ids = [r for (r,) in self.db.execute("SELECT run_id FROM runs WHERE status = 'done' AND run_id LIKE ? "
                                             "AND run_id IN (SELECT run_id FROM artefacts)", (f"{run_id}%",))]
        if len(ids) != 1:
            known = ", ".join(i.run_id for i in self.all()[:5]) or "none yet"
            raise ValuestoryError(f"{'No' if not ids else 'More than one'} finished run {run_id!r} in this project "
                                  f"(latest: {known}); `valuestory runs list` shows them all")
        return RunReader(self.ledger, ids[0])

    def before(self, run_id: str) -> RunReader | None:
        """The finished run before this one, if any."""
        row = self.db.execute(
            "SELECT run_id FROM runs WHERE status = 'done' AND run_id IN (SELECT run_id FROM artefacts) AND rowid < "
            "(SELECT rowid FROM runs WHERE run_id = ?) ORDER BY rowid DESC LIMIT 1", (run_id,)).fetchone()
        return RunReader(self.ledger, row[0]) if row else None

    def has_runs(self) -> bool:
        return self._latest_id() is not None

    def latest(self) -> RunReader:
        """The latest finished run."""
        run_id = self._latest_id()
        if run_id is None:
            raise ValuestoryError("No finished run yet: run `valuestory run` first")
        return RunReader(self.ledger, run_id)


def _info(row: tuple) -> RunInfo:
    values = dict(zip(RUN_COLUMNS, row, strict=True))
    for k in ("prompts", "inputs", "summary"):
        values[k] = json.loads(values[k]) if values[k] else None
    values["prompts"] = values["prompts"] or {}
    values["inputs"] = values["inputs"] or {}
    return RunInfo(**values)


class RunReader:
    """The artefacts of one finished run, typed as their stages produced them."""

    def __init__(self, ledger: Ledger, run_id: str) -> None:
        self.ledger, self.run_id = ledger, run_id
        row = ledger.db.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise ValuestoryError(f"No run {run_id!r} in this project")
        self.info = _info(row)
        self._cache: dict[str, BaseModel] = {}
        self.slice: Slice | None = None

    def sliced(self, cut: Slice, records: list[Record]) -> RunReader:
        """The same run read through a slice of its records (see `pipeline.slices`): its
        summary's fix-first and easy fixes are the slice's own."""
        view = RunReader(self.ledger, self.run_id)
        view._cache = cut_artefacts({stage: self.artefact(stage) for stage in CUT}, records, cut)
        view.slice = cut
        card: Scorecard = view._cache["scores"]  # type: ignore[assignment]
        if self.info.summary:
            coding: Coding = view._cache["catalogue"]  # type: ignore[assignment]
            journey: Journey = view._cache["journey"]  # type: ignore[assignment]
            view.info = self.info.model_copy(update={"summary": self.info.summary.model_copy(update={
                "fix_first": card.fix_first, "easy_fixes": card.easy_fixes, "overall_nps": card.overall_nps,
                "mentions": len(coding.mentions), "touchpoints": len(coding.touchpoints),
                "decisions": len(journey.decisions), "slice": cut.label})})
        return view

    def artefact(self, stage: str) -> BaseModel:
        if stage not in self._cache:
            row = self.ledger.db.execute("SELECT data FROM artefacts WHERE run_id = ? AND stage = ?",
                                         (self.run_id, stage)).fetchone()
            if row is None:
                raise ValuestoryError(f"Run {self.run_id} has no {stage} output: it was made by an earlier "
                                      "version of valuestory; run `valuestory run` again")
            self._cache[stage] = ARTEFACTS[stage].model_validate_json(unpacked(row[0]))
        return self._cache[stage]

    @property
    def coding(self) -> Coding:
        return self.artefact("catalogue")

    @property
    def scores(self) -> Scorecard:
        return self.artefact("scores")

    @property
    def personas(self) -> Personas:
        return self.artefact("personas")

    @property
    def promises(self) -> Promises:
        return self.artefact("promises")

    @property
    def journey(self) -> Journey:
        return self.artefact("journey")

    @property
    def stories(self) -> Stories:
        return self.artefact("stories")

    @property
    def roles(self) -> Roles:
        return self.artefact("roles")

    @property
    def opportunities(self) -> Opportunities:
        return self.artefact("opportunities")

    @property
    def value_maps(self) -> ValueMaps:
        return self.artefact("valuemap")

    def provenance(self) -> list[Provenance]:
        rows = self.ledger.db.execute("SELECT stage, engine, version, model, prompts, seconds FROM artefacts "
                                      "WHERE run_id = ? ORDER BY rowid", (self.run_id,)).fetchall()
        return [Provenance(stage=s, engine=e, version=v, model=m or "", prompts=json.loads(p or "[]"), seconds=t or 0)
                for s, e, v, m, p, t in rows]


PACK_ITEMS = 10_000  # list items serialised at a time: a 400,000-mention list never sits whole as JSON


def packed(artefact: BaseModel) -> bytes:
    """An artefact as stored: its JSON, zlib-compressed as it is written, a long list a block
    of items at a time. The JSON of a 200,000-response run's mentions is some 150 MB; built
    whole, it and its copies added 600 MiB to the run's peak memory, and it filled the ledger."""
    z = zlib.compressobj()
    out = [z.compress(b"{")]
    for i, name in enumerate(type(artefact).model_fields):
        value = getattr(artefact, name)
        key = json.dumps(name).encode()
        out.append(z.compress((b"," if i else b"") + key + b":"))
        if isinstance(value, list) and len(value) > PACK_ITEMS:
            adapter = TypeAdapter(list[type(value[0])])  # type: ignore[misc]
            out.append(z.compress(b"["))
            for k in range(0, len(value), PACK_ITEMS):
                out.append(z.compress((b"," if k else b"") + adapter.dump_json(value[k:k + PACK_ITEMS])[1:-1]))
            out.append(z.compress(b"]"))
        else:
            whole = artefact.__pydantic_serializer__.to_json(artefact, include={name})
            out.append(z.compress(whole[len(key) + 2:-1]))  # {"name":VALUE} -> VALUE
    out.append(z.compress(b"}"))
    out.append(z.flush())
    return b"".join(out)


def unpacked(data: bytes | str) -> bytes | str:
    """The JSON of a stored artefact (runs before compression stored it as text)."""
    return zlib.decompress(data) if isinstance(data, bytes) else data
