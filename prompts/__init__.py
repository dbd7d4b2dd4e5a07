"""Versioned prompt templates: `NAME.vN.md`, Jinja with StrictUndefined. A template is named
by its file (`"mentions.v3"`): that name is its version, stated nowhere else. Every cached
answer is keyed by the template's name and a hash of the file, so editing a template can
never reuse answers made with the old text."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files

from jinja2 import Environment, StrictUndefined

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@cache
def source(name: str) -> str:
    """The template's text; `name` is its file name without `.md`, e.g. "mentions.v3"."""
    return files(__name__).joinpath(f"{name}.md").read_text(encoding="utf-8")


@cache
def digest(name: str) -> str:
    return hashlib.sha256(source(name).encode()).hexdigest()[:16]


def render(name: str, **values: object) -> str:
    """The template filled in; a value it names and is not given is an error."""
    return _ENV.from_string(source(name)).render(**values)
