"""Errors a user can act on: each names the file (and line or column) and what to do."""

from __future__ import annotations


class ValuestoryError(Exception):
    """An error meant for the user, printed without a traceback."""


class InputError(ValuestoryError):
    """A source file that cannot be taken whole; nothing of it is stored."""

    def __init__(self, message: str, *, path: str = "", line: int | None = None,
                 column: str | None = None, hint: str = "") -> None:
        self.path, self.line, self.column, self.hint = path, line, column, hint
        self.message = message
        super().__init__(self.render())

    def where(self) -> str:
        place = self.path
        if self.line is not None:
            place += f", line {self.line}"
        if self.column:
            place += f", column '{self.column}'"
        return place

    def render(self) -> str:
        text = f"{self.where()}: {self.message}" if self.path else self.message
        return f"{text}. {self.hint}" if self.hint else text

    def located(self, path: str) -> InputError:
        """The same error, naming `path` if it did not name a file yet."""
        if not self.path:
            self.path = path
            self.args = (self.render(),)
        return self
