"""Ingest: files in, redacted and chunked records stored in the ledger and the vector index.

The first step of the method: gather the customer's words. Each file is taken whole or not
at all, and what was stored before stays as it was when a file fails.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from valuestory.connectors import ParseOptions, connectors, detect_kind, discover
from valuestory.connectors.files import SourceFile
from valuestory.errors import InputError, ValuestoryError
from valuestory.project import Project
from valuestory.records import Record
from valuestory.stores.ledger import Ledger, SourceRow, content_key
from valuestory.stores.lock import writing
from valuestory.stores.vectors import VectorStore

from .chunk import Chunk, chunk_record
from .redact import Redactor

REPAIR_BATCH = 500  # chunk ids per ledger look-up (SQLite's parameter limit)
WRITE_SLICE = 50_000  # chunks whose vectors are written (and read back) together
MAX_RECORD_CHARS = 2_000_000  # about a 300-page transcript; beyond it a file is not one record


@dataclass
class FileReport:
    path: str
    status: str  # stored | unchanged | failed | skipped | repaired
    kind: str = ""
    records: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    chunks: int = 0
    encoding: str = ""
    detected: str = ""
    message: str = ""
    redactions: Counter = field(default_factory=Counter)
    # record ids as the connector gave them -> as stored, where redaction changed them; kept
    # in memory only, for the evaluation harness to find labelled records
    renamed: dict[str, str] = field(default_factory=dict)
    superseded: list[str] = field(default_factory=list)  # stored sources this file replaces (moved, re-exported)


LEARNED_NAMES = "learned_names"  # the ledger's keyed digests of names a text introduced, to their pseudonyms


def settings_fingerprint(project: Project, kind: str, options: ParseOptions) -> str:
    """What besides the bytes decides what a file becomes; a change re-ingests it."""
    cfg = project.config
    privacy = cfg.privacy.model_dump()
    relevant = {"kind": kind, "map": options.mapping, "company": sorted(options.company_speakers),
                "privacy": privacy, "max_tokens": cfg.chunking.max_tokens, "version": 1}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def recover(ledger: Ledger, vectors: VectorStore) -> int:
    """Settle chunk ids an interrupted ingest left pending: keep those the ledger knows,
    delete the rest from the vector index. Returns how many were deleted."""
    pending = ledger.pending()
    if not pending:
        return 0
    orphans = pending - ledger.known_chunks(pending)
    vectors.delete(orphans)
    ledger.clear_pending(pending)
    return len(orphans)


@dataclass
class Prepared:
    """A file read, redacted and chunked, waiting to be written."""

    report: FileReport
    source: SourceRow
    records: list[Record]
    chunks: list[Chunk]
    new: list[Chunk]  # chunks the vector index does not hold yet
    stale: set[str]  # chunk ids of the file's previous version that are gone now
    previous: list[str] = field(default_factory=list)  # what it was stored as before: its old path, sources it replaces


def prepare_file(project: Project, path: Path, kind: str | None, options: ParseOptions,
                 redactor: Redactor, claimed: dict[str, str], batch: str = "",
                 present: frozenset[str] = frozenset()) -> Prepared | FileReport:
    """Everything short of writing: a file that fails here leaves no trace. `claimed` holds
    record ids of files prepared in this run but not yet written; `present`, the origins of
    the files this ingest reads (a source among them is not one that moved)."""
    ledger, display = project.ledger, project.relative(path)
    src = SourceFile(path, display)
    report = FileReport(display, "failed")
    try:
        src.check_not_empty()
        kind, detected = (kind, "--kind") if kind else detect_kind(src)
        report.kind, report.detected = kind, detected
        fingerprint = settings_fingerprint(project, kind, options)
        origin = redactor.digest(display)
        before = ledger.source_from(origin) or ledger.source(display)
        if before and before.sha256 == src.sha256 and before.settings == fingerprint:
            report.status, report.records, report.chunks = "unchanged", before.records, before.chunks
            report.encoding = before.encoding
            return report
        records = connectors.get(kind).parse(src, options)
        report.encoding = src.encoding
        if not records:
            raise InputError("no records found", path=display, hint="Is the file empty but for its header?")
        oversized = next((r for r in records if len(r.text) > MAX_RECORD_CHARS), None)
        if oversized:
            raise InputError(f"{oversized.locator} holds {len(oversized.text):,} characters, over the "
                             f"{MAX_RECORD_CHARS:,} one record may hold", path=display,
                             hint="Split the file (one interview or one response per record)")
        redactor.counts.clear()
        redactor.read_words(records)
        # the path as stored and shown: redacted, with the names of the file's own people
        stored = redactor.path(display, redactor.names_of(records), personal=bool(records) and all(
            r.kind == "interview" for r in records))
        # each record gives way to its redacted copy as that is made: a file's records are held once
        for i, r in enumerate(records):
            records[i] = redacted = redactor.record(r).model_copy(update={"source": stored})
            if r.record_id != redacted.record_id:
                report.renamed[r.record_id] = redacted.record_id
        report.redactions = Counter(redactor.counts)
        ids = [r.record_id for r in records]
        owners = {**ledger.owners(ids), **{i: claimed[i] for i in ids if i in claimed}}
        own = {stored} | ({before.path} if before else set())
        clashes = {rid: owner for rid, owner in owners.items() if owner not in own}
        # A file holding every record of a stored source whose own file is not read now (the
        # same file moved, or a cumulative re-export under a new name) takes that source's
        # place, matched by record ids. Two files read together that share ids stay refused.
        superseded = {o for o in set(clashes.values())
                      if (row := ledger.source(o)) is not None and row.kind == kind and row.origin not in present
                      and set(ledger.record_hashes(o)) <= set(ids)}
        clashes = {rid: owner for rid, owner in clashes.items() if owner not in superseded}
        if not superseded and not clashes and (moved := _same_rows(ledger, records, kind, present)):
            superseded, records = {moved[0]}, moved[1]
        if clashes:
            rid, owner = next(iter(clashes.items()))
            raise InputError(f"record id '{rid}' is already stored from {owner}"
                             + (f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""),
                             path=display, hint="Ids must be unique across sources: rename the "
                             "file, or map another id column with --map id=COLUMN; if it is the same "
                             f"file moved, run `valuestory forget {owner}` first")
    except InputError as exc:
        report.message = exc.located(display).render()
        return report
    except Exception as exc:  # noqa: BLE001 - one unreadable file must not end the batch
        report.message = (f"{display}: could not be read ({type(exc).__name__}: {exc}); nothing of it "
                          "was stored. This is a fault in valuestory: please report it with the file")
        return report

    chunks = [c for r in records for c in chunk_record(r, project.config.chunking.max_tokens)]
    previous = sorted({before.path if before else stored} | superseded)
    old_hashes = {rid: h for path in previous for rid, h in ledger.record_contents(path).items()}
    new_hashes = {r.record_id: content_key(r) for r in records}
    old = set().union(*(ledger.chunk_ids_of_source(path) for path in previous))
    report.superseded = sorted(superseded)
    report.records, report.chunks = len(records), len(chunks)
    report.added = sum(1 for rid in new_hashes if rid not in old_hashes)
    report.changed = sum(1 for rid, h in new_hashes.items() if old_hashes.get(rid, h) != h)
    report.removed = sum(1 for rid in old_hashes if rid not in new_hashes)
    claimed.update((rid, stored) for rid in new_hashes)
    source = SourceRow(stored, kind, src.sha256, len(src.data), report.encoding, report.detected,
                       fingerprint, len(records), len(chunks), "", batch, origin)
    return Prepared(report, source, records, chunks,
                    new=[c for c in chunks if c.chunk_id not in old],
                    stale=old - {c.chunk_id for c in chunks}, previous=previous)


DERIVED_ID = re.compile(r"^(?P<kind>[a-z]+):(?P<stem>.+):(?P<digest>[0-9a-f]{10}(?:-\d+)?)$")


def _same_rows(ledger: Ledger, records: list[Record], kind: str,
               present: frozenset[str]) -> tuple[str, list[Record]] | None:
    """A file without an id column names its rows by file and content (`feedback:reviews:3f2a…`),
    so a renamed or moved export of it shares no id with the stored one. It takes the place of
    a stored source of its kind, not read now, whose every row it holds (by content); its rows
    keep their stored ids, so an unchanged row is unchanged and what points to it still does."""
    digests = {m["digest"]: r for r in records if (m := DERIVED_ID.match(r.record_id))}
    if not digests or len(digests) != len(records):
        return None
    for row in ledger.sources():
        if row.kind != kind or row.origin in present:
            continue
        stored = {m["digest"]: rid for rid in ledger.record_hashes(row.path) if (m := DERIVED_ID.match(rid))}
        if stored and len(stored) == row.records and stored.keys() <= digests.keys():
            return row.path, [r.model_copy(update={"record_id": stored.get(d, r.record_id)}) for d, r in digests.items()]
    return None


class Writer:
    """Writes prepared files in groups: one embedding pass and one vector-store write for many
    small files (a store write has a high fixed cost), then each file's own ledger
    transaction. New chunk ids are marked pending first, so a crash at any point leaves
    nothing that `recover` cannot settle, and no file half-stored.

    Writing in the background while the next files are read was measured slower here: the
    store's indexing already keeps both cores busy."""

    def __init__(self, project: Project, flush_at: int = 4000) -> None:
        self.project, self.flush_at = project, flush_at
        self.queue: list[Prepared] = []

    def add(self, prepared: Prepared) -> None:
        self.queue.append(prepared)
        if sum(len(p.new) for p in self.queue) >= self.flush_at:
            self.flush()

    def flush(self) -> None:
        queue, self.queue = self.queue, []
        if not queue:
            return
        ledger, vectors = self.project.ledger, self.project.vectors
        ledger.mark_pending(c.chunk_id for p in queue for c in p.new)
        try:
            # a slice at a time: a million-record file's ids, texts and metadata are not all built at once
            for p in queue:
                for i in range(0, len(p.new), WRITE_SLICE):
                    part = p.new[i:i + WRITE_SLICE]
                    write_and_read_back(vectors, [c.chunk_id for c in part], [c.text for c in part],
                                        [{"record_id": c.record_id, "kind": p.source.kind} for c in part])
        except Exception as exc:  # the store refused or vanished: no file of the group is stored
            for p in queue:
                p.report.status = "failed"
                p.report.message = f"{p.report.path}: the vector store failed ({exc}); nothing of it was stored"
            recover(ledger, vectors)
            return
        for p in queue:
            ledger.replace_source(p.source, p.records, p.chunks,
                                  settled=[c.chunk_id for c in p.new], leaving=p.stale, previous=p.previous)
            p.report.status = "stored"
        stale = [cid for p in queue for cid in p.stale]
        vectors.delete(stale)
        ledger.clear_pending(stale)


def write_and_read_back(vectors: VectorStore, ids: list[str], texts: list[str], metadatas: list[dict]) -> None:
    """Write vectors and check that each reads back, writing the missing ones once more;
    raises VectorsLost when some still do not."""
    vectors.add(ids, texts, metadatas)
    missing = vectors.unreadable(ids)
    if missing:
        again = [i for i, cid in enumerate(ids) if cid in missing]
        vectors.add([ids[i] for i in again], [texts[i] for i in again], [metadatas[i] for i in again])
        if lost := vectors.unreadable([ids[i] for i in again]):
            raise VectorsLost(f"{len(lost)} of {len(ids)} vectors did not read back after writing")


class VectorsLost(ValuestoryError):
    pass


def repair(ledger: Ledger, vectors: VectorStore) -> tuple[int, int]:
    """Make the index hold exactly the ledger's chunks: re-embed those it cannot read back
    (a crash, a disk fault or a writer outside valuestory), delete those it holds for no
    stored record. Returns (re-embedded, deleted)."""
    held = vectors.ids()
    stored = {ref[0] for ref in ledger.chunk_refs()}
    missing, extra = sorted(stored - held), held - stored
    for i in range(0, len(missing), REPAIR_BATCH):
        rows = ledger.chunks_by_id(missing[i:i + REPAIR_BATCH]).values()
        write_and_read_back(vectors, [r["chunk_id"] for r in rows], [r["text"] for r in rows],
                            [{"record_id": r["record_id"], "kind": r["kind"]} for r in rows])
    vectors.delete(extra)
    return len(missing), len(extra)


def ingest(project: Project, paths: list[Path], kind: str | None = None,
           mapping: dict[str, str] | None = None,
           on_file: Callable[[FileReport], None] | None = None) -> list[FileReport]:
    """Ingest files and folders; one report per file, in the order given. Holds the
    project's write lock (`stores.lock`): a second writer waits."""
    with writing(project.store_dir, "ingest"):
        return _ingest(project, paths, kind, mapping, on_file)


def _ingest(project: Project, paths: list[Path], kind: str | None,
            mapping: dict[str, str] | None, on_file: Callable[[FileReport], None] | None) -> list[FileReport]:
    missing = [p for p in paths if not p.exists()]
    reports = [FileReport(project.relative(p), "failed",
                          message=f"{p}: no such file or folder. Check the path") for p in missing]
    files, skipped = discover([p for p in paths if p.exists()])
    reports += [FileReport(project.relative(p), "skipped",
                           message=f"unsupported type '{p.suffix or 'none'}' in a folder") for p in skipped]
    if not files:
        return reports
    recover(project.ledger, project.vectors)
    missing, extra = repair(project.ledger, project.vectors)
    if missing or extra:
        reports.append(FileReport("(vector index)", "repaired", message=(
            f"re-embedded {missing} stored chunks the index could not read back; "
            f"deleted {extra} vectors of no stored record")))
    options = ParseOptions(mapping=dict(mapping or {}),
                           company_speakers=project.config.interviews.company_speakers)
    redactor = Redactor(project.config.privacy, known=json.loads(project.ledger.get_meta(LEARNED_NAMES) or "{}"))
    writer, claimed = Writer(project), {}
    batch = uuid.uuid4().hex[:12]
    present = frozenset(redactor.digest(project.relative(p)) for p in files)
    for path in files:
        result = prepare_file(project, path, kind, options, redactor, claimed, batch, present)
        if isinstance(result, Prepared):
            writer.add(result)
            result = result.report
        reports.append(result)
        if on_file:
            on_file(result)
    writer.flush()
    if redactor.known:
        project.ledger.set_meta(LEARNED_NAMES, json.dumps(redactor.known, sort_keys=True))
    return reports


def forget(project: Project, source: str) -> int:
    """Remove one source, its records and its chunks everywhere; returns the record count."""
    with writing(project.store_dir, "forget"):
        return _forget(project, source)


def _forget(project: Project, source: str) -> int:
    origin = Redactor(project.config.privacy).digest(project.relative(Path(source)))
    row = (project.ledger.source(source) or project.ledger.source(project.relative(Path(source)))
           or project.ledger.source_from(origin))
    if row is None:
        known = ", ".join(s.path for s in project.ledger.sources()[:10])
        raise InputError(f"no stored source '{source}'", hint=f"Stored sources include: {known}")
    ids = project.ledger.forget_source(row.path)
    project.vectors.delete(ids)
    project.ledger.clear_pending(ids)
    return row.records


def reindex(project: Project, embedding: str | None = None,
            batch: int = 4096) -> int:
    """Re-embed every chunk the ledger holds into a fresh collection (e.g. after switching
    the embedding model); `embedding` also becomes the project's setting."""
    with writing(project.store_dir, "reindex"):
        return _reindex(project, embedding, batch)


def _reindex(project: Project, embedding: str | None, batch: int) -> int:
    import re

    from valuestory.stores.embeddings import make_embedder
    from valuestory.stores.vectors import chroma_client
    if embedding:
        text = project.config_path.read_text(encoding="utf-8")
        line = f'embedding = "{embedding}"'
        text, n = re.subn(r'(?m)^embedding\s*=.*$', line, text, count=1)
        if not n:
            text = re.sub(r"(?m)^\[store\]\s*$", f"[store]\n{line}", text, count=1) \
                if "[store]" in text else text + f"\n[store]\n{line}\n"
        project.config.store.embedding = embedding
        embedder = make_embedder(embedding)  # fails here, before anything changes, if unusable
        project.config_path.write_text(text, encoding="utf-8")
    else:
        embedder = make_embedder(project.config.store.embedding)
    client, where = chroma_client(project.config, project.store_dir)
    name = project.config.collection_name()
    if name in {getattr(c, "name", c) for c in client.list_collections()}:
        client.delete_collection(name)
    vectors = VectorStore(client, name, embedder, where)
    rows = list(project.ledger.all_chunks())
    for i in range(0, len(rows), batch):
        part = rows[i:i + batch]
        vectors.add([r[0] for r in part], [r[3] for r in part],
                    [{"record_id": r[1], "kind": r[2]} for r in part])
    project.__dict__["vectors"] = vectors
    return len(rows)
