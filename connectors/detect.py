"""Which connector reads a file: --kind, else the format, the headers and the folder name."""

from __future__ import annotations

from pathlib import Path

from valuestory.errors import InputError

from .base import connectors
from .files import SourceFile
from .interview import looks_like_transcript_json
from .support import read_json_tickets
from .tabular import read_table

TRANSCRIPT_FORMATS = {".txt", ".md", ".markdown", ".vtt", ".srt", ".sbv", ".docx"}
TABLE_FORMATS = {".csv", ".tsv", ".xlsx", ".xls"}
SUPPORTED = TRANSCRIPT_FORMATS | TABLE_FORMATS | {".json"}
HINT_SHARE = 0.5  # a folder's kind is taken when its headers fit at least this share of the best fit


def folder_hint(path: Path) -> str | None:
    """The kind named by the nearest folder, e.g. `research/nps-q1/export.csv` -> nps."""
    for part in reversed([p.lower() for p in path.parent.parts]):
        for kind in connectors.names():
            if any(word in part for word in connectors.get(kind).folder_words):
                return kind
    return None


def detect_kind(src: SourceFile) -> tuple[str, str]:
    """(kind, why) for a file; raises InputError when nothing fits."""
    hint = folder_hint(src.path)
    if src.suffix in TRANSCRIPT_FORMATS:
        return "interview", f"{src.suffix} transcript"
    if src.suffix == ".json":
        if looks_like_transcript_json(src):
            return "interview", "JSON speaker turns"
        table = read_json_tickets(src)
    elif src.suffix in TABLE_FORMATS:
        table = read_table(src)
    else:
        raise InputError(f"unsupported file type '{src.suffix or 'none'}'", path=src.display,
                         hint=f"Supported: {', '.join(sorted(SUPPORTED))}")
    fits = {kind: connectors.get(kind).fit(table) for kind in connectors.names()}
    kind = max(fits, key=fits.get)
    # The file's own headers decide; a folder's name only breaks a near tie (an NPS export
    # kept under crm-backup/ is still NPS)
    if hint and fits.get(hint, 0) > 0 and fits[hint] >= HINT_SHARE * fits[kind]:
        return hint, f"folder name, headers fit {hint}"
    if fits[kind] <= 0:
        raise InputError("cannot tell what kind of data this is from its columns "
                         f"({', '.join(table.headers[:8])})", path=src.display,
                         hint="Give --kind interview|nps|support|sales|feedback, and --map "
                              "FIELD=COLUMN for the text column")
    return kind, "headers"


def discover(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Files to ingest under the given files and folders, and the ones skipped (hidden or of
    an unsupported type, inside folders; a file named directly is never skipped)."""
    files: dict[Path, None] = {}  # ordered, and each file once however often it is named
    skipped: list[Path] = []
    for path in paths:
        if path.is_dir():
            for f in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = f.relative_to(path).parts
                if any(part.startswith((".", "_")) for part in rel):
                    continue
                if f.suffix.lower() in SUPPORTED:
                    files[f.resolve()] = None
                else:
                    skipped.append(f)
        else:
            files[path.resolve()] = None
    return list(files), skipped
