"""Commands on the project's store: init, ingest, sources, search, forget, reindex, cache."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from valuestory.errors import InputError
from valuestory.project import ENV_VAR, Project, find_project

from .common import ChromaOpt, Kind, KindOpt, ProjectOpt, console, err, handles_errors, progress, shown

app = typer.Typer()


@app.command()
@handles_errors
def init(
    folder: Annotated[Optional[Path], typer.Argument(
        help=f"Where to create the project (default: --project, ${ENV_VAR}, else here).",
        show_default=False)] = None,
    project_dir: ProjectOpt = None,
) -> None:
    """Create a project: a commented valuestory.toml; the store goes in .valuestory/ beside it."""
    target = folder or project_dir or (Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else Path.cwd())
    project = Project(target)
    created = project.create()
    if created:
        console.print(f"Created {project.config_path}. Next: valuestory ingest FILES_OR_FOLDERS")
    else:
        console.print(f"{project.config_path} exists already; nothing changed.")


@app.command()
@handles_errors
def ingest(
    paths: Annotated[Optional[list[Path]], typer.Argument(
        help="Files and folders of research data (default: the [[sources]] declared in valuestory.toml).",
        show_default=False)] = None,
    kind: Annotated[Optional[Kind], typer.Option(
        "--kind", "-k", help="Read every file as this kind instead of detecting it from the "
                             "folder name, extension and headers.", show_default=False)] = None,
    map_: Annotated[Optional[list[str]], typer.Option(
        "--map", "-m", metavar="FIELD=COLUMN",
        help="Name the column that holds a field, when its header is not recognised, e.g. "
             "--map score=Q3 --map text=\"Tell us why\". Repeatable.", show_default=False)] = None,
    project_dir: ProjectOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Ingest research files into the project's store: detect each file's kind, normalize it
    into records, redact personal data, chunk, embed and index.

    Kinds: interview (.txt/.md `Name: text`, .vtt, .srt, .json turns, .docx), nps (CSV/XLSX
    with a 0-10 score), support (tickets CSV/JSON), sales (CRM CSV), feedback (any CSV of
    free text). Re-ingesting unchanged files adds nothing; a changed file replaces its old
    records. A file is stored whole or not at all. Exits 1 if any file failed.
    """
    from valuestory.connectors.tabular import parse_mapping
    mapping = parse_mapping(map_ or [])
    project = find_project(project_dir, chroma_url)
    if project.create():
        console.print(f"Created project {project.root} (settings in {project.config_path.name})")
    if paths:
        reports = ingest_paths(project, paths, kind.value if kind else None, mapping)
    else:
        reports = ingest_declared(project)
    _print_ingest_summary(reports)
    if any(r.status == "failed" for r in reports):
        raise typer.Exit(1)


def ingest_paths(project, paths: list[Path], kind: str | None, mapping: dict[str, str] | None) -> list:
    from valuestory.ingest.ingest import ingest as run_ingest
    _ = project.vectors  # opens the store: a mismatched embedding fails before any work
    files = sum(1 for p in paths if p.is_file()) + sum(
        1 for p in paths if p.is_dir() for f in p.rglob("*") if f.is_file())
    with progress() as update:
        done = []
        return run_ingest(project, paths, kind, mapping,
                          on_file=lambda r: (done.append(r), update("ingesting", len(done), files)))


def ingest_declared(project) -> list:
    """The [[sources]] of valuestory.toml, each glob expanded under the project folder."""
    declared = project.config.sources
    if not declared:
        raise InputError("no paths given, and valuestory.toml declares no [[sources]]",
                              hint='Give files or folders, or add [[sources]] path = "exports/*.csv" to valuestory.toml')
    reports = []
    for source in declared:
        found = sorted(p for p in project.root.glob(source.path) if p.is_file()) if any(
            c in source.path for c in "*?[") else [project.root / source.path]
        if not found or not all(p.exists() for p in found):
            raise InputError(f"the declared source {source.path!r} matches no file under {project.root}",
                                  hint="Fix its path in valuestory.toml, or remove it")
        reports += ingest_paths(project, found, source.kind, source.map or None)
    return reports


def _print_ingest_summary(reports) -> None:
    table = Table(title="Ingest summary", show_lines=False)
    for col in ("file", "kind", "status", "records", "chunks", "encoding", "notes"):
        # a path is never cut short: two interviews in one folder differ only at the end
        table.add_column(col, justify="right" if col in ("records", "chunks") else "left",
                         overflow="fold" if col in ("file", "notes") else "ellipsis")
    style = {"stored": "green", "unchanged": "dim", "failed": "red", "skipped": "yellow", "repaired": "yellow"}
    for r in reports:
        notes = r.message
        if r.status == "stored":
            change = [f"+{r.added} new"] if r.added else []
            change += [f"{r.changed} changed"] if r.changed else []
            change += [f"-{r.removed} removed"] if r.removed else []
            red = ", ".join(f"{n} {k}" for k, n in sorted(r.redactions.items()))
            moved = f"replaces {', '.join(shown(x) for x in r.superseded)} (moved or re-exported)" if r.superseded else ""
            notes = "; ".join(filter(None, [", ".join(change), moved, f"redacted {red}" if red else ""]))
        table.add_row(escape(shown(r.path)), r.kind, f"[{style[r.status]}]{r.status}[/]",
                      str(r.records or ""), str(r.chunks or ""), r.encoding, escape(notes))
    console.print(table)
    counts = {s: sum(1 for r in reports if r.status == s) for s in ("stored", "unchanged", "failed", "skipped")}
    console.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no files")
    for r in reports:
        if r.status == "failed":
            err.print(f"[red]failed:[/red] {escape(r.message)}", highlight=False)


@app.command()
@handles_errors
def sources(project_dir: ProjectOpt = None, chroma_url: ChromaOpt = None) -> None:
    """What is stored: per kind, and per source file."""
    project = find_project(project_dir, chroma_url).require()
    ledger = project.ledger
    rows = ledger.counts_by_kind()
    vectors = project.vectors
    table = Table(title=f"{project.root.name}: stored per kind")
    for col in ("kind", "sources", "records", "chunks", "tokens", "dates"):
        table.add_column(col, justify="left" if col in ("kind", "dates") else "right")
    for kind, n_sources, n_records, n_chunks, n_tokens in rows:
        first, last = ledger.date_range(kind)
        table.add_row(kind, str(n_sources), str(n_records), str(n_chunks), str(n_tokens),
                      f"{first} to {last}" if first else "")
    console.print(table)
    files = Table(title="sources")
    for col in ("source", "kind", "records", "chunks", "encoding", "ingested"):
        files.add_column(col, justify="right" if col in ("records", "chunks") else "left",
                         overflow="fold")
    for s in ledger.sources():
        files.add_row(escape(shown(s.path)), s.kind, str(s.records), str(s.chunks), s.encoding,
                      s.ingested_at[:16].replace("T", " "))
    console.print(files)
    console.print(f"vector index: {vectors.count()} chunks in '{vectors.name}' at {vectors.where}, "
                  f"embedding {vectors.embedder.name}")


@app.command()
@handles_errors
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words.", show_default=False)],
    n: Annotated[int, typer.Option("-n", "--limit", min=1, max=200, help="How many hits.")] = 10,
    kind: KindOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the hits as JSON.")] = False,
    project_dir: ProjectOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Semantic search over everything ingested; each hit shows its record, kind, source and
    the matching passage."""
    from valuestory.stores.search import search as run_search
    project = find_project(project_dir, chroma_url).require()
    hits = run_search(project, query, n, kind.value if kind else None)
    if as_json:
        console.print_json(json.dumps(hits, ensure_ascii=False))
        return
    if not hits:
        console.print("No hits: nothing is stored yet, or nothing of this kind.")
        return
    table = Table(title=f"search: {query}", show_lines=True)
    for col in ("score", "record", "kind", "source", "passage"):
        table.add_column(col, overflow="fold")
    for h in hits:
        table.add_row(f"{h['score']:.2f}", escape(h["record_id"]), h["kind"],
                      escape(f"{shown(h['source'])} ({h['locator']})"), escape(h["snippet"]))
    console.print(table)


@app.command()
@handles_errors
def forget(
    sources_: Annotated[list[str], typer.Argument(metavar="SOURCE...", help="Source paths as `valuestory sources` lists them.")],
    project_dir: ProjectOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Remove sources with their records and chunks, from the ledger and the vector index."""
    from valuestory.ingest.ingest import forget as run_forget
    project = find_project(project_dir, chroma_url).require()
    for source in sources_:
        removed = run_forget(project, source)
        console.print(f"forgot {source}: {removed} records")


@app.command()
@handles_errors
def reindex(
    embedding: Annotated[Optional[str], typer.Option(
        "--embedding", "-e", help="Embedding model to switch to (and write to valuestory.toml): "
                                  "wordllama, minilm, openai:MODEL.", show_default=False)] = None,
    project_dir: ProjectOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Re-embed every stored chunk (after changing the embedding model) from the ledger."""
    from valuestory.ingest.ingest import reindex as run_reindex
    project = find_project(project_dir, chroma_url).require()
    n = run_reindex(project, embedding)
    console.print(f"re-embedded {n} chunks with {project.config.store.embedding}")




@app.command()
@handles_errors
def cache(
    clear: Annotated[bool, typer.Option("--clear", help="Delete every cached model answer (the next run with "
                                                        "--llm asks the model again).")] = False,
    project_dir: ProjectOpt = None,
) -> None:
    """The model answers this project has cached: per model and prompt version, how many and
    the output tokens they save. Verifies each one (an entry that is not a JSON object is
    deleted, so the next run asks again); --clear deletes them all. Only answers that passed
    every check are ever cached, and a run never uses one that no longer does."""
    from valuestory.stores.lock import writing
    project = find_project(project_dir).require()
    ledger = project.ledger
    with writing(project.store_dir, "cache"):
        if clear:
            console.print(f"deleted {ledger.clear_cache()} cached answers")
            return
        broken = []
        for key, response in ledger.cached_answers():
            try:
                ok = isinstance(json.loads(response), dict)
            except ValueError:
                ok = False
            if not ok:
                broken.append(key)
                ledger.forget_cached(key)
    table = Table(title=f"{project.root.name}: cached model answers")
    for col in ("model", "prompt", "answers", "output tokens saved"):
        table.add_column(col, justify="right" if col in ("answers", "output tokens saved") else "left")
    for model, prompt, n, tokens in ledger.cache_summary():
        table.add_row(escape(model), prompt, str(n), str(tokens))
    console.print(table)
    console.print(f"verified: {len(broken)} unreadable answers deleted" if broken else "verified: every answer reads")
