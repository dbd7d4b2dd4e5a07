"""How figures are written wherever they are shown (report, audit page, terminal tables)."""

from __future__ import annotations


def signed(v: float | None, digits: int = 2) -> str:
    """+0.25, -1.4; a value that rounds to zero is +0.00, never -0.00."""
    if v is None:
        return ""
    text = f"{v:+.{digits}f}"
    return text.replace("-", "+", 1) if float(text) == 0 else text
