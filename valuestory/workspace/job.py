"""A run of the pipeline started from the workspace, in a thread of its own while the pages
go on being served: its progress (the stage, and a model stage's calls) is read by the page
that waits for it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from valuestory.errors import ValuestoryError
from valuestory.project import Project


@dataclass
class RunJob:
    root: Path
    llm: str
    codebook: Path | None
    back: str  # the page to return to when it is done
    started: float = field(default_factory=time.perf_counter)
    label: str = "starting"
    done: int = 0
    total: int = 0
    seconds: float | None = None  # set when it has ended
    run_id: str = ""
    error: str = ""

    def start(self) -> RunJob:
        threading.Thread(target=self._work, name="valuestory-run", daemon=True).start()
        return self

    @property
    def running(self) -> bool:
        return self.seconds is None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def _progress(self, label: str, done: int, total: int) -> None:
        self.label, self.done, self.total = label, done, total

    def _work(self) -> None:
        from valuestory.pipeline.run import run
        # its own project: a SQLite connection is used only by the thread that opened it
        project = Project(self.root)
        try:
            self.run_id = run(project, self.llm, codebook=self.codebook, on_progress=self._progress).run_id
        except ValuestoryError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - shown on the page, never lost in a thread
            self.error = f"the run failed: {type(exc).__name__}: {exc}"
        finally:
            project.ledger.close()
            self.seconds = self.elapsed
