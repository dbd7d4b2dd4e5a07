"""The audit's I/O, shared by the web page and the CLI: a valuestory project holding the
owner's answers (`stores.audits`), their uploads (the connectors, with their errors) and a run
over the owner's touchpoints as the codebook."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import yaml

from valuestory.errors import InputError
from valuestory.ingest.ingest import FileReport, ingest
from valuestory.pipeline.artefacts import TouchpointDef
from valuestory.pipeline.run import run
from valuestory.project import Project
from valuestory.stores import audits
from valuestory.stores.runs import RunStore

from .businesses import TYPES
from .findings import findings
from .state import AuditState, AuditTouchpoint, Findings, Snapshot

CODEBOOK = "audit-codebook.yaml"
UPLOADS = "uploads"  # the owner's files, under the project
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a small business's exports; larger is refused with a message


class Audit:
    def __init__(self, root: Path) -> None:
        self.project = Project(root)
        if not self.project.exists:
            self.project.create()
        self.state: AuditState = audits.load(self.project.store_dir, AuditState) or AuditState()

    def save(self) -> None:
        audits.save(self.project.store_dir, self.state)

    def choose(self, business_type: str, channels: list[str] | None = None, size: str = "") -> None:
        """Step 1: the business type, with its library's touchpoints as the starting list."""
        if business_type not in TYPES:
            raise InputError(f"unknown business type {business_type!r}",
                             hint="Choose one of: " + ", ".join(TYPES))
        if business_type != self.state.business_type or not self.state.touchpoints:
            self.state.touchpoints = [AuditTouchpoint(definition=t) for t in TYPES[business_type].touchpoints]
        self.state.business_type, self.state.channels, self.state.size = business_type, channels or [], size
        self._done("business")

    def edit(self, keep: set[str], renames: dict[str, str] | None = None, added: list[str] | None = None) -> None:
        """The owner's list: the touchpoints kept (the others stay matched, shown as missing if
        customers mention them), renamed ones and new ones."""
        renames = {old: new.strip() for old, new in (renames or {}).items() if new.strip() and new.strip() != old}
        taken = {t.name.lower() for t in self.state.touchpoints}
        for t in self.state.touchpoints:
            t.listed = t.name in keep
            if t.name in renames and renames[t.name].lower() not in taken:
                t.definition = t.definition.model_copy(update={"name": renames[t.name]})
        for name in added or []:
            name = " ".join(name.split())
            if name and name.lower() not in {t.name.lower() for t in self.state.touchpoints}:
                self.state.touchpoints.append(AuditTouchpoint(definition=TouchpointDef(
                    name=name, description=name, origin="codebook")))
        self.save()

    def add_data(self, paths: list[Path]) -> list[FileReport]:
        """Step 2: the customers' words, through the connectors: a file is taken whole or not at
        all, and a refused one names why. After a finished audit, the old findings are kept
        so the next ones say what changed."""
        for p in paths:
            if p.stat().st_size > MAX_UPLOAD_BYTES:
                raise InputError(f"{p.name} is {p.stat().st_size // (1024 * 1024)} MB, over the "
                                 f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB an audit takes", path=p.name,
                                 hint="Export the last few months only, or split the file")
        if "fix" in self.state.done:
            self._snapshot()
        reports = ingest(self.project, paths)
        self.state.uploads += [r.path for r in reports if r.status in ("stored", "unchanged")]
        self._done("words")
        return reports

    def upload(self, name: str, content: bytes) -> FileReport:
        """A file from the web page, kept under the project's `uploads/` by its own name (so
        next quarter's export of the same name updates it). A file that fails leaves the one
        before it, and what was stored from it, as they were."""
        name = Path(name.replace("\\", "/")).name.lstrip(".") or "upload"
        if not content:
            raise InputError(f"{name} is empty: nothing was taken", path=name, hint="Export the file again")
        if len(content) > MAX_UPLOAD_BYTES:
            raise InputError(f"{name} is over the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB an audit takes", path=name,
                             hint="Export the last few months only, or split the file")
        folder = self.project.root / UPLOADS
        folder.mkdir(exist_ok=True)
        target, backup = folder / name, folder / f".{name}.previous"
        had = target.exists()
        if had:
            target.replace(backup)
        target.write_bytes(content)
        [report] = self.add_data([target])
        if report.status == "failed":
            target.unlink(missing_ok=True)
            if had:
                backup.replace(target)
        else:
            backup.unlink(missing_ok=True)
        return report

    def analyse(self, llm: str = "offline", model=None) -> Findings:
        """Steps 3-6: a run over the owner's touchpoints (listed and removed ones, so what
        customers mention that the owner removed is still found), then the findings. The run
        is made again only when the touchpoints or the data changed; ratings only change the
        findings."""
        book = yaml.safe_dump([
            {"name": t.name, "description": t.definition.description, "examples": list(t.definition.examples),
             "channel": t.definition.channel, "owner": t.definition.owner, "effort": t.definition.effort}
            for t in self.state.touchpoints], sort_keys=False, allow_unicode=True)
        engine = getattr(model, "name", llm)
        made_from = hashlib.sha256(f"{book}{engine}{self.project.ledger.record_count()}{self.state.uploads}".encode()
                                   ).hexdigest()
        store = RunStore(self.project.ledger)
        if made_from != self.state.analysed or not store.has_runs():
            path = self.project.store_dir / CODEBOOK
            path.write_text(book, encoding="utf-8")
            run(self.project, llm, codebook=path, model=model)
            self.state.analysed = made_from
        reader = store.latest()
        out = findings(self.state, reader.coding, reader.scores, reader.journey, self.project.ledger.record_count(),
                       reader.opportunities, reader.info.engine)
        self.save()
        return out

    def _snapshot(self) -> None:
        reader = RunStore(self.project.ledger).latest()
        listed = {t.name for t in self.state.listed()}
        self.state.history.append(Snapshot(
            at=date.today().isoformat(), records=self.project.ledger.record_count(),
            emotional={s.touchpoint: s.emotional_impact.value for s in reader.scores.scores
                       if s.scope == "overall" and s.touchpoint in listed and s.emotional_impact.value is not None},
            fix_first=[t for t in reader.scores.fix_first if t in listed]))

    def mark(self, step: str) -> None:
        """A step done: seen with its findings, or moved past without data."""
        self._done(step)

    def _done(self, step: str) -> None:
        if step not in self.state.done:
            self.state.done.append(step)
        self.save()
