"""The researcher's recoding decisions, in the ledger: added in order, listed, undone (an
undone decision is kept, marked, so the list says what was tried)."""

from __future__ import annotations

import time

from valuestory.errors import ValuestoryError
from valuestory.pipeline.recode import Recode

from .ledger import Ledger


class RecodeStore:
    def __init__(self, ledger: Ledger) -> None:
        self.db = ledger.db

    def add(self, recode: Recode) -> Recode:
        cursor = self.db.execute("INSERT INTO recodes (at, data) VALUES (?, ?)",
                                 (_now(), recode.model_dump_json(exclude={"number"})))
        return recode.model_copy(update={"number": cursor.lastrowid})

    def active(self) -> list[Recode]:
        """The decisions in force, in the order they were made."""
        return [r for r, undone in self.all() if not undone]

    def all(self) -> list[tuple[Recode, str | None]]:
        """Every decision with when it was undone (None while in force)."""
        rows = self.db.execute("SELECT number, data, undone_at FROM recodes ORDER BY number").fetchall()
        return [(Recode.model_validate_json(data).model_copy(update={"number": n}), undone) for n, data, undone in rows]

    def undo(self, number: int | None = None) -> Recode:
        """Undo one decision (by default the last one in force)."""
        active = self.active()
        if not active:
            raise ValuestoryError("there is no recoding decision to undo")
        target = active[-1] if number is None else next((r for r in active if r.number == number), None)
        if target is None:
            raise ValuestoryError(f"no recoding decision {number} in force; `valuestory code list` shows them")
        self.db.execute("UPDATE recodes SET undone_at = ? WHERE number = ?", (_now(), target.number))
        return target


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")
