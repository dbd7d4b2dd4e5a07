"""A project: a folder with `valuestory.toml` and its store in `.valuestory/`."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .config import CONFIG_NAME, Config, load_config, render_template
from .errors import ValuestoryError

STORE_DIR = ".valuestory"
ENV_VAR = "VALUESTORY_PROJECT"


@dataclass
class Project:
    root: Path
    chroma_url: str | None = None  # a --chroma-url given on the command line wins over the toml
    config: Config = field(init=False)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        self.config = load_config(self.config_path)
        if self.chroma_url:
            self.config.store.chroma_url = self.chroma_url

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def store_dir(self) -> Path:
        return self.root / STORE_DIR

    @property
    def exists(self) -> bool:
        return self.config_path.exists()

    def create(self) -> bool:
        """Write a commented `valuestory.toml` unless one exists; True if it was written."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.exists:
            return False
        name = re.sub(r"\s+", "-", self.root.name) or "research"
        self.config_path.write_text(render_template(name), encoding="utf-8")
        self.config = load_config(self.config_path)
        if self.chroma_url:
            self.config.store.chroma_url = self.chroma_url
        return True

    def require(self) -> Project:
        if not self.exists:
            raise ValuestoryError(
                f"No valuestory project in {self.root} (no {CONFIG_NAME}). Run "
                "`valuestory init` there, or `valuestory ingest FILES` which creates one, "
                f"or point at a project with --project DIR or {ENV_VAR}.")
        return self

    def relative(self, path: Path) -> str:
        """How a source path is shown and stored: relative to the project when inside it."""
        path = path.resolve()
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    @cached_property
    def ledger(self):
        from .stores.ledger import Ledger
        self.store_dir.mkdir(parents=True, exist_ok=True)
        return Ledger(self.store_dir / "ledger.sqlite")

    @cached_property
    def vectors(self):
        from .stores.vectors import open_vector_store
        return open_vector_store(self.config, self.store_dir)


def find_project(explicit: Path | None = None, chroma_url: str | None = None) -> Project:
    """The project named by --project, else $VALUESTORY_PROJECT, else the nearest folder
    upwards from here that holds a valuestory.toml, else the current folder."""
    if explicit is None and os.environ.get(ENV_VAR):
        explicit = Path(os.environ[ENV_VAR])
    if explicit is not None:
        return Project(explicit, chroma_url)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).exists():
            return Project(folder, chroma_url)
    return Project(here, chroma_url)
