"""One small registry for what users plug in: embedding functions, connectors, later models.

Built-ins register exactly as an outside package would, through an entry point group
(`valuestory.embeddings`, `valuestory.connectors`) or by calling `register` at import.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from .errors import ValuestoryError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str, group: str) -> None:
        self.what, self.group = what, group
        self._items: dict[str, T] = {}
        self._plugins_loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            self._items[name] = item
            return item
        return add

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=self.group):
            self._items.setdefault(ep.name, ep.load())

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._items)

    def get(self, name: str) -> T:
        self._load_plugins()
        try:
            return self._items[name]
        except KeyError:
            raise ValuestoryError(f"Unknown {self.what} '{name}'. Known: "
                                  f"{', '.join(self.names())}.") from None
