"""Versioned prompt templates: `NAME.vN.md`. A prompt's version is part of every cached answer
made with it, so editing a prompt means a new version file, never a silent change."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=None)
def load(name: str, version: int) -> str:
    return files(__name__).joinpath(f"{name}.v{version}.md").read_text(encoding="utf-8")
