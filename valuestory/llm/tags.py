"""Evidence tags: passages numbered `e1`, `e2`, ... for one prompt, which a model cites and
which map back to the records. Customer text is escaped and folded to one line, so it cannot
close or forge a tag."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Protocol


class Span(Protocol):
    record_id: str
    start: int
    end: int
    text: str


class Tags:
    """Passages numbered for one prompt. The same passage keeps its tag within the prompt."""

    def __init__(self) -> None:
        self.passages: list[Span] = []
        self._index: dict[tuple[str, int, int], int] = {}

    def tag(self, p: Span) -> str:
        key = (p.record_id, p.start, p.end)
        if key not in self._index:
            self._index[key] = len(self.passages)
            self.passages.append(p)
        return f"e{self._index[key] + 1}"

    def render(self, p: Span) -> str:
        return f"<{self.tag(p)}>{escape(' '.join(p.text.split()), quote=False)}"

    def get(self, ref: str) -> Span | None:
        ref = ref.strip().strip("<>").lower()
        if ref.startswith("e") and ref[1:].isdigit() and 0 < int(ref[1:]) <= len(self.passages):
            return self.passages[int(ref[1:]) - 1]
        return None

    def unknown(self, refs: Iterable[str]) -> list[str]:
        return [r for r in refs if self.get(r) is None]

    def records(self, refs: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(p.record_id for r in refs if (p := self.get(r))))
