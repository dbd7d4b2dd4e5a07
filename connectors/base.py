"""The connector interface: one module per source kind registers one `Connector`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from valuestory.records import Record
from valuestory.registry import Registry

from .files import SourceFile
from .tabular import FieldSpec, Table, header_score


@dataclass
class ParseOptions:
    mapping: dict[str, str] = field(default_factory=dict)  # --map FIELD=COLUMN
    company_speakers: list[str] = field(default_factory=list)


@dataclass
class Connector:
    kind: str
    describe: str
    parse: Callable[[SourceFile, ParseOptions], list[Record]]
    # How strongly a table's headers say "this kind"; 0 means not at all.
    fit: Callable[[Table], float] = lambda table: 0.0
    folder_words: tuple[str, ...] = ()


connectors: Registry[Connector] = Registry("source kind", "valuestory.connectors")


def signal_fit(table: Table, signals: dict[str, FieldSpec]) -> float:
    """How many of a kind's telltale fields have a matching header."""
    return float(sum(any(header_score(spec, h) for h in table.headers) for spec in signals.values()))
