"""The run ledger: SQLite record of every source, record and chunk, with content hashes.

It is the source of truth for what is stored; the vector store is an index over its chunks.
The schema only grows, through numbered migrations.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from valuestory.records import Record, content_hash

MIGRATIONS = [
    """
    CREATE TABLE sources (
        path TEXT PRIMARY KEY, kind TEXT NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER,
        encoding TEXT, detected TEXT, settings TEXT, records INTEGER, chunks INTEGER,
        ingested_at TEXT);
    CREATE TABLE records (
        record_id TEXT PRIMARY KEY,
        source TEXT NOT NULL REFERENCES sources(path) ON DELETE CASCADE,
        kind TEXT NOT NULL, content_hash TEXT NOT NULL, date TEXT, segment TEXT,
        respondent TEXT, score REAL, text TEXT NOT NULL, data TEXT NOT NULL);
    CREATE INDEX records_source ON records(source);
    CREATE TABLE chunks (
        chunk_id TEXT PRIMARY KEY,
        record_id TEXT NOT NULL REFERENCES records(record_id) ON DELETE CASCADE,
        idx INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
        tokens INTEGER NOT NULL, text TEXT NOT NULL);
    CREATE INDEX chunks_record ON chunks(record_id);
    -- chunk ids written to (or due to leave) the vector store but not yet settled here
    CREATE TABLE pending (chunk_id TEXT PRIMARY KEY);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    """,
    """
    -- a synthesis run: which engine, model and prompt versions made it, from which inputs
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY, started_at TEXT, finished_at TEXT, engine TEXT, model TEXT,
        prompts TEXT, inputs TEXT, codebook TEXT, status TEXT, summary TEXT);
    -- every model call: stage, model, tokens, latency, cache hit, error
    CREATE TABLE calls (
        id INTEGER PRIMARY KEY, run_id TEXT, stage TEXT, model TEXT, mode TEXT,
        tokens_in INTEGER, tokens_out INTEGER, latency REAL, cache_hit INTEGER,
        attempts INTEGER, error TEXT, at TEXT);
    CREATE INDEX calls_run ON calls(run_id);
    -- answers by a hash of (model, prompt version, rendered prompt, schema, parameters)
    CREATE TABLE cache (
        key TEXT PRIMARY KEY, model TEXT, prompt_version TEXT, response TEXT,
        tokens_in INTEGER, tokens_out INTEGER, created_at TEXT);
    CREATE TABLE mentions (
        run_id TEXT NOT NULL, record_id TEXT NOT NULL, chunk_id TEXT, kind TEXT, touchpoint TEXT,
        channel TEXT, quote TEXT, start INTEGER, "end" INTEGER, sentiment REAL, polarity TEXT,
        did_job INTEGER, confidence REAL, engine TEXT, model TEXT, prompt_version TEXT);
    CREATE INDEX mentions_run ON mentions(run_id);
    CREATE TABLE touchpoints (
        run_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT, channel TEXT, owner TEXT,
        effort TEXT, origin TEXT, mentions INTEGER, respondents INTEGER);
    CREATE TABLE scores (run_id TEXT NOT NULL, touchpoint TEXT NOT NULL, scope TEXT NOT NULL, data TEXT);
    """,
    """
    -- the transformational storyline: who a mention is about, and where in the journey
    ALTER TABLE mentions ADD COLUMN persona TEXT;
    ALTER TABLE mentions ADD COLUMN phase TEXT;
    ALTER TABLE mentions ADD COLUMN stage TEXT;
    ALTER TABLE mentions ADD COLUMN purchase TEXT;
    CREATE TABLE decisions (
        run_id TEXT NOT NULL, persona TEXT, record_id TEXT NOT NULL, kind TEXT, respondent TEXT,
        decision TEXT NOT NULL, phase TEXT, outcome TEXT, quote TEXT, start INTEGER, "end" INTEGER,
        position INTEGER, touchpoints TEXT);
    CREATE INDEX decisions_run ON decisions(run_id);
    """,
    """
    -- which ingest command wrote a source: later stages keep its records together
    ALTER TABLE sources ADD COLUMN batch TEXT;
    """,
    """
    -- the value-story outputs of a run (roles, opportunities, ...), one JSON row each
    CREATE TABLE outputs (run_id TEXT NOT NULL, kind TEXT NOT NULL, persona TEXT, data TEXT NOT NULL);
    CREATE INDEX outputs_run ON outputs(run_id, kind);
    """,
    """
    -- every stage's typed output, with what made it (engine, stage version, model, prompts);
    -- from here on the only place a run's results are written (see stores/runs.py)
    CREATE TABLE artefacts (
        run_id TEXT NOT NULL, stage TEXT NOT NULL, engine TEXT NOT NULL, version TEXT NOT NULL,
        model TEXT, prompts TEXT, seconds REAL, data TEXT NOT NULL, PRIMARY KEY (run_id, stage));
    """,
    """
    -- a keyed digest of the file's own path: the stored path is redacted (a name or an email
    -- in a file name never reaches the store), so this is how a file is known again
    ALTER TABLE sources ADD COLUMN origin TEXT;
    CREATE INDEX sources_origin ON sources(origin);
    """,
    """
    -- what a stage's output was made from (its inputs, version, engine): an unchanged re-run
    -- takes the output of the run that made it instead of making it again
    ALTER TABLE artefacts ADD COLUMN inputs_hash TEXT;
    CREATE INDEX artefacts_inputs ON artefacts(stage, inputs_hash);
    """,
    """
    -- batches sent to the OpenAI Batch API: picked up by a later run
    CREATE TABLE batches (
        batch_id TEXT PRIMARY KEY, stage TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL,
        submitted_at TEXT, keys TEXT NOT NULL);
    """,
    """
    -- the researcher's recoding decisions, applied to every run's coding in order; undone ones are kept
    CREATE TABLE recodes (
        number INTEGER PRIMARY KEY, at TEXT NOT NULL, data TEXT NOT NULL, undone_at TEXT);
    """,
    """
    -- input tokens a provider's prompt caching served (as its usage reports them)
    ALTER TABLE calls ADD COLUMN tokens_cached INTEGER;
    """,
]


@dataclass
class SourceRow:
    path: str
    kind: str
    sha256: str
    bytes: int
    encoding: str
    detected: str
    settings: str
    records: int
    chunks: int
    ingested_at: str
    batch: str | None = None  # the ingest command that wrote it
    origin: str | None = None  # keyed digest of the file's path as the user named it


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self.db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

    def close(self) -> None:
        self.db.close()

    # --- reading ------------------------------------------------------------------------
    def source(self, path: str) -> SourceRow | None:
        row = self.db.execute("SELECT * FROM sources WHERE path = ?", (path,)).fetchone()
        return SourceRow(*row) if row else None

    def source_from(self, origin: str) -> SourceRow | None:
        """The source stored from the file with this origin digest (its path may be redacted)."""
        row = self.db.execute("SELECT * FROM sources WHERE origin = ?", (origin,)).fetchone()
        return SourceRow(*row) if row else None

    def sources(self) -> list[SourceRow]:
        return [SourceRow(*r) for r in self.db.execute("SELECT * FROM sources ORDER BY kind, path")]

    def chunk_ids_of_source(self, path: str) -> set[str]:
        return {r[0] for r in self.db.execute(
            "SELECT c.chunk_id FROM chunks c JOIN records r USING (record_id) WHERE r.source = ?", (path,))}

    def record_hashes(self, path: str) -> dict[str, str]:
        return dict(self.db.execute("SELECT record_id, content_hash FROM records WHERE source = ?", (path,)))

    def record_contents(self, path: str) -> dict[str, str]:
        """Each record of a source, by a hash of everything but the source it came from: the
        same record in a moved or re-exported file is unchanged."""
        return {rid: content_key(Record.model_validate_json(data))
                for rid, data in self.db.execute("SELECT record_id, data FROM records WHERE source = ?", (path,))}

    def owners(self, record_ids: Iterable[str]) -> dict[str, str]:
        """Which source holds each of these record ids now (those stored at all)."""
        ids = list(record_ids)
        found: dict[str, str] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            found.update(self.db.execute(
                f"SELECT record_id, source FROM records WHERE record_id IN ({','.join('?' * len(part))})",
                part).fetchall())
        return found

    def records(self, kind: str | None = None) -> Iterator[Record]:
        query, args = "SELECT data FROM records", ()
        if kind:
            query, args = query + " WHERE kind = ?", (kind,)
        for (data,) in self.db.execute(query + " ORDER BY kind, source, rowid", args):
            yield Record.stored(data)

    def records_by_id(self, record_ids: Iterable[str]) -> dict[str, Record]:
        """These records (those stored), by id."""
        ids = list(dict.fromkeys(record_ids))
        found: dict[str, Record] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            for (data,) in self.db.execute(
                    f"SELECT data FROM records WHERE record_id IN ({','.join('?' * len(part))})", part):
                record = Record.stored(data)
                found[record.record_id] = record
        return found

    def segments(self) -> list[str]:
        """The segments the records carry, sorted."""
        return [s for (s,) in self.db.execute("SELECT DISTINCT segment FROM records WHERE segment IS NOT NULL "
                                              "AND segment != '' ORDER BY segment")]

    def chunks_by_id(self, chunk_ids: list[str]) -> dict[str, dict]:
        if not chunk_ids:
            return {}
        rows = self.db.execute(
            "SELECT c.chunk_id, c.record_id, c.start, c.\"end\", c.text, r.kind, r.source, "
            "json_extract(r.data, '$.locator'), r.segment, r.date FROM chunks c JOIN records r "
            f"USING (record_id) WHERE c.chunk_id IN ({','.join('?' * len(chunk_ids))})", chunk_ids)
        keys = ("chunk_id", "record_id", "start", "end", "text", "kind", "source", "locator", "segment", "date")
        return {r[0]: dict(zip(keys, r, strict=True)) for r in rows}

    def all_chunks(self) -> Iterator[tuple[str, str, str, str]]:
        """(chunk_id, record_id, kind, text) of every chunk, for re-embedding."""
        yield from self.db.execute(
            "SELECT c.chunk_id, c.record_id, r.kind, c.text FROM chunks c JOIN records r USING (record_id)")

    def counts_by_kind(self) -> list[tuple[str, int, int, int, int]]:
        """(kind, sources, records, chunks, tokens) per kind."""
        return self.db.execute(
            "SELECT s.kind, COUNT(DISTINCT s.path), COALESCE(SUM(x.n_records), 0), "
            "COALESCE(SUM(x.n_chunks), 0), COALESCE(SUM(x.n_tokens), 0) FROM sources s LEFT JOIN ("
            "  SELECT r.source, COUNT(DISTINCT r.record_id) n_records, COUNT(c.chunk_id) n_chunks, "
            "  COALESCE(SUM(c.tokens), 0) n_tokens FROM records r LEFT JOIN chunks c USING (record_id) "
            "  GROUP BY r.source) x ON x.source = s.path GROUP BY s.kind ORDER BY s.kind").fetchall()

    def date_range(self, kind: str) -> tuple[str | None, str | None]:
        return self.db.execute("SELECT MIN(date), MAX(date) FROM records WHERE kind = ?", (kind,)).fetchone()

    # --- model calls ----------------------------------------------------------------------
    def cached(self, key: str) -> tuple[str, int, int] | None:
        return self.db.execute("SELECT response, tokens_in, tokens_out FROM cache WHERE key = ?", (key,)).fetchone()

    def cache_answer(self, key: str, model: str, prompt_version: str, response: str,
                     tokens_in: int, tokens_out: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO cache VALUES (?,?,?,?,?,?,?)",
                        (key, model, prompt_version, response, tokens_in, tokens_out, _now()))

    def forget_cached(self, key: str) -> None:
        self.db.execute("DELETE FROM cache WHERE key = ?", (key,))

    def cache_summary(self) -> list[tuple[str, str, int, int]]:
        """Per model and prompt version: cached answers and the output tokens they saved."""
        return self.db.execute("SELECT model, prompt_version, COUNT(*), COALESCE(SUM(tokens_out), 0) FROM cache "
                               "GROUP BY model, prompt_version ORDER BY model, prompt_version").fetchall()

    def cached_answers(self) -> list[tuple[str, str]]:
        return self.db.execute("SELECT key, response FROM cache").fetchall()

    def clear_cache(self) -> int:
        n = self.db.execute("SELECT COUNT(*) FROM cache").fetchone()[0]
        self.db.execute("DELETE FROM cache")
        return n

    def log_call(self, run_id: str, stage: str, model: str, mode: str, tokens_in: int, tokens_out: int,
                 latency: float, cache_hit: bool, attempts: int, error: str | None, tokens_cached: int = 0) -> None:
        self.db.execute("INSERT INTO calls (run_id, stage, model, mode, tokens_in, tokens_out, latency, "
                        "cache_hit, attempts, error, at, tokens_cached) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (run_id, stage, model, mode, tokens_in, tokens_out, latency, int(cache_hit),
                         attempts, error, _now(), tokens_cached))

    def chunk_refs(self) -> Iterator[tuple[str, str, int, int, str]]:
        """(chunk_id, record_id, start, end, batch) of every chunk, newest sources last, a row
        at a time."""
        yield from self.db.execute(
            'SELECT c.chunk_id, c.record_id, c.start, c."end", COALESCE(s.batch, \'\') FROM chunks c '
            "JOIN records r USING (record_id) JOIN sources s ON s.path = r.source "
            "ORDER BY s.rowid, r.rowid, c.idx")

    def inputs(self) -> dict:
        """How many records there are and a hash of them: what a run read."""
        rows = self.db.execute("SELECT record_id, content_hash FROM records ORDER BY record_id").fetchall()
        digest = hashlib.sha256("".join(f"{a}{b}" for a, b in rows).encode()).hexdigest()[:16]
        return {"records": len(rows), "hash": digest}

    def corpus_tokens(self) -> int:
        return self.db.execute("SELECT COALESCE(SUM(tokens), 0) FROM chunks").fetchone()[0]

    def record_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM records").fetchone()[0]

    def calls_by_stage(self, run_id: str) -> list[tuple[str, int, int, int]]:
        """(stage, calls, input tokens, output tokens) of the model calls a run made, cache hits left out."""
        return self.db.execute("SELECT stage, COUNT(*), SUM(tokens_in), SUM(tokens_out) FROM calls "
                               "WHERE run_id = ? AND NOT cache_hit "
                               "GROUP BY stage ORDER BY MIN(id)", (run_id,)).fetchall()

    def call_totals(self, run_id: str) -> dict:
        row = self.db.execute("SELECT COUNT(*), COALESCE(SUM(tokens_in),0), COALESCE(SUM(tokens_out),0), "
                              "COALESCE(SUM(cache_hit),0), COALESCE(SUM(error IS NOT NULL),0), "
                              "COALESCE(SUM(tokens_cached),0) FROM calls WHERE run_id = ?", (run_id,)).fetchone()
        totals = dict(zip(("calls", "tokens_in", "tokens_out", "cache_hits", "errors", "tokens_cached"), row,
                          strict=True))
        totals["modes"] = [m for (m,) in self.db.execute(
            "SELECT DISTINCT mode FROM calls WHERE run_id = ? AND mode NOT IN ('', 'cache')", (run_id,))]
        return totals

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- the two-phase write with the vector store ----------------------------------------
    def pending(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT chunk_id FROM pending")}

    def known_chunks(self, chunk_ids: Iterable[str]) -> set[str]:
        ids = list(chunk_ids)
        known: set[str] = set()
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            known |= {r[0] for r in self.db.execute(
                f"SELECT chunk_id FROM chunks WHERE chunk_id IN ({','.join('?' * len(part))})", part)}
        return known

    def mark_pending(self, chunk_ids: Iterable[str]) -> None:
        with self.transaction():
            self.db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", ((c,) for c in chunk_ids))

    def clear_pending(self, chunk_ids: Iterable[str]) -> None:
        with self.transaction():
            self.db.executemany("DELETE FROM pending WHERE chunk_id = ?", ((c,) for c in chunk_ids))

    def transaction(self):
        return _Transaction(self.db)

    def replace_source(self, source: SourceRow, records: list[Record], chunks: list,
                       settled: Iterable[str], leaving: Iterable[str], previous: Iterable[str] = ()) -> None:
        """Swap in a source's new records and chunks in one transaction. `settled` chunk ids
        (now in the vector store) leave the pending list; `leaving` ones join it until the
        vector store has deleted them."""
        source.ingested_at = _now()
        with self.transaction():
            self.db.execute("DELETE FROM records WHERE source = ?", (source.path,))
            # the same file stored before under another path (redacted since, or before origins)
            if source.origin:
                self.db.execute("DELETE FROM sources WHERE origin = ? AND path != ?", (source.origin, source.path))
            # what it was stored as before: its old path, or the sources it supersedes (moved, or
            # re-exported cumulatively); their records go with them
            for path in previous:
                if path != source.path:
                    self.db.execute("DELETE FROM sources WHERE path = ?", (path,))
            self.db.execute("INSERT OR REPLACE INTO sources VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                            tuple(source.__dict__.values()))
            self.db.executemany(
                "INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?)",
                ((r.record_id, source.path, r.kind, content_hash(data), r.date, r.segment,
                  r.respondent, r.score, r.text, data)
                 for r, data in ((r, r.model_dump_json()) for r in records)))
            self.db.executemany(
                "INSERT INTO chunks VALUES (?,?,?,?,?,?,?)",
                ((c.chunk_id, c.record_id, c.index, c.start, c.end, c.tokens, c.text) for c in chunks))
            self.db.executemany("DELETE FROM pending WHERE chunk_id = ?", ((c,) for c in settled))
            self.db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", ((c,) for c in leaving))

    # --- batches sent to a batch API, picked up by a later run ------------------------

    def open_batch(self, stage: str, model: str) -> tuple[str, list[str]] | None:
        row = self.db.execute("SELECT batch_id, keys FROM batches WHERE stage = ? AND model = ? AND status = 'open' "
                              "ORDER BY submitted_at DESC LIMIT 1", (stage, model)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def open_new_batch(self, batch_id: str, stage: str, model: str, keys: list[str]) -> None:
        self.db.execute("INSERT INTO batches VALUES (?,?,?,?,?,?)",
                        (batch_id, stage, model, "open", _now(), json.dumps(keys)))

    def close_batch(self, batch_id: str, status: str) -> None:
        self.db.execute("UPDATE batches SET status = ? WHERE batch_id = ?", (status, batch_id))

    def forget_source(self, path: str) -> set[str]:
        """Remove a source with its records and chunks; returns the chunk ids to delete
        from the vector store (left pending until they are)."""
        ids = self.chunk_ids_of_source(path)
        with self.transaction():
            self.db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", ((c,) for c in ids))
            self.db.execute("DELETE FROM sources WHERE path = ?", (path,))
        return ids


def content_key(record: Record) -> str:
    return record.model_copy(update={"source": ""}).content_hash()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")

