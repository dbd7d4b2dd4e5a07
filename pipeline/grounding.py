"""Grounding: a quote is shown only if it is a verbatim span of the record it cites, in the
voice it is attributed to."""

from __future__ import annotations

_QUOTES = "\"'“”‘’«»"


def _squash(text: str) -> tuple[str, list[int]]:
    """Text with runs of whitespace folded to one space, and where each character came from."""
    out, where = [], []
    last_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if last_space:
                continue
            out.append(" ")
            last_space = True
        else:
            out.append(ch)
            last_space = False
        where.append(i)
    return "".join(out), where


def locate(quote: str, text: str, near: tuple[int, int] | None = None,
           within: list[tuple[int, int]] | None = None) -> tuple[int, int] | None:
    """The span of `quote` in `text`, matching whitespace loosely and nothing else; inside
    `near` first (the chunk the quote should come from), then anywhere in the record. With
    `within` (the customer's spans of a conversation), only a span lying inside one of them
    counts: words the interviewer or the agent said are not the customer's."""
    wanted = " ".join(quote.strip().strip(_QUOTES).strip().rstrip(".…").split())
    if len(wanted) < 3:
        return None
    squashed, where = _squash(text)
    windows = ([near] if near else []) + [(0, len(text))]
    for lo, hi in windows:
        s_lo = next((k for k, i in enumerate(where) if i >= lo), len(squashed))
        found = squashed.find(wanted, s_lo)
        while found != -1 and where[found + len(wanted) - 1] < hi:
            start, end = where[found], where[found + len(wanted) - 1] + 1
            if within is None or any(a <= start and end <= b for a, b in within):
                return start, end
            found = squashed.find(wanted, found + 1)
    return None
