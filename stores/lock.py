"""One writer at a time: the project lock taken by ingest, run and reindex.

Two commands writing to one store at once corrupt the vector index (both exit 0, a quarter of
the vectors unreadable), so a writer holds an exclusive lock on `.valuestory/write.lock`; a
second one waits for it, saying who holds it, and gives up after `LOCK_WAIT` seconds (the
environment's VALUESTORY_LOCK_WAIT overrides it) with an error naming the holder. The lock
is the operating system's (flock): a killed writer releases it. Re-entrant within a process.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from valuestory.errors import ValuestoryError

LOCK_NAME = "write.lock"
LOCK_WAIT = 600.0  # seconds a writer waits for another before it gives up
POLL = 0.2
WAIT_ENV = "VALUESTORY_LOCK_WAIT"
_held: dict[Path, int] = {}  # lock file -> depth, for this process


def _holder(path: Path) -> str:
    try:
        about = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another valuestory command"
    return f"valuestory {about.get('command', '?')} (pid {about.get('pid', '?')}, since {about.get('since', '?')})"


@contextmanager
def writing(store_dir: Path, command: str, wait: float | None = None) -> Iterator[None]:
    """Hold the project's write lock for the block."""
    store_dir.mkdir(parents=True, exist_ok=True)
    path = (store_dir / LOCK_NAME).resolve()
    if _held.get(path):
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    wait = float(os.environ.get(WAIT_ENV, LOCK_WAIT)) if wait is None else wait
    handle = path.open("a+", encoding="utf-8")
    try:
        deadline, told = time.monotonic() + wait, False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ValuestoryError(
                        f"{_holder(path)} is writing to this project and did not finish within {wait:.0f} s. "
                        f"Wait for it to end (or stop it), then run `valuestory {command}` again; "
                        f"{WAIT_ENV}=SECONDS waits longer") from None
                if not told:
                    # the real stderr: a progress display may hold sys.stderr and drop what it is given
                    out = sys.__stderr__ or sys.stderr
                    out.write(f"waiting for {_holder(path)} to finish writing to this project...\n")
                    out.flush()
                    told = True
                time.sleep(POLL)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"command": command, "pid": os.getpid(),
                                 "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")}))
        handle.flush()
        _held[path] = 1
        try:
            yield
        finally:
            _held.pop(path, None)
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()
