"""The guided audit's saved state: one JSON file in the project, written whole after every
step (a temporary file renamed over the old one, so a crash never leaves half a file)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, ValidationError

from valuestory.errors import ValuestoryError

AUDIT_FILE = "audit.json"


def load(store_dir: Path, model: type[BaseModel]) -> BaseModel | None:
    path = store_dir / AUDIT_FILE
    if not path.exists():
        return None
    try:
        return model.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, UnicodeDecodeError) as exc:
        raise ValuestoryError(f"The saved audit {path} cannot be read ({exc.__class__.__name__}); move it away to "
                              "start a new audit") from None


def save(store_dir: Path, state: BaseModel) -> None:
    store_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=store_dir, prefix=".audit-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(state.model_dump_json(indent=1))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, store_dir / AUDIT_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
