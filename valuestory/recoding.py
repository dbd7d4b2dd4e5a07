"""Recoding decisions as every front end takes them (`valuestory code`, `valuestory review`,
the workspace): checked against the latest run, kept in the project's ledger, undone. One
place says what a decision may name and what a review verdict stands for."""

from __future__ import annotations

import difflib

from valuestory.errors import InputError
from valuestory.pipeline.artefacts import Mention
from valuestory.pipeline.mentions.calibration import built_in
from valuestory.pipeline.recode import Recode
from valuestory.project import Project
from valuestory.stores.lock import writing
from valuestory.stores.recodes import RecodeStore
from valuestory.stores.runs import RunStore

POLARITY = {"+": "positive", "0": "neutral", "-": "negative",
            "positive": "positive", "neutral": "neutral", "negative": "negative"}


def decide(project: Project, recode: Recode) -> Recode:
    """Check a decision against the latest run and keep it: the decision as stored, numbered."""
    picked = check(project, recode)
    recode = recode.model_copy(update={"texts": recode.texts or picked})
    with writing(project.store_dir, "code"):
        return RecodeStore(project.ledger).add(recode)


def undo(project: Project, number: int | None = None) -> Recode:
    """Take a decision back (by default the last in force); it stays listed, marked undone."""
    with writing(project.store_dir, "code"):
        return RecodeStore(project.ledger).undo(number)


def check(project: Project, r: Recode) -> list[str]:
    """The names and the mention a decision speaks of exist in the latest run (or are made by
    an earlier decision): a typo is an error that names what there is. Returns the quotes of
    the mentions it is about (what the engine learns from)."""
    store = RunStore(project.ledger)
    if not store.has_runs():
        raise InputError("there is no run to recode yet", hint="Run `valuestory run` first")
    coding = store.latest().coding
    known = {t.name for t in coding.touchpoints} | {d.into for d in RecodeStore(project.ledger).active() if d.into}
    for name in r.touchpoints:
        if name not in known:
            raise InputError(f"no touchpoint {name!r} in the latest run", hint=_close(name, known))
    picked: list[str] = []
    if r.action in ("reassign", "reject", "confirm", "polarity"):
        here = [m for m in coding.mentions if m.record_id == r.record_id and m.touchpoint == r.touchpoints[0]]
        if not here:
            raise InputError(f"the latest run has no mention of {r.touchpoints[0]!r} in {r.record_id}",
                             hint="`valuestory export mentions` lists each mention with its record and touchpoint")
        picked = [m.quote for m in here if r.quote.casefold() in m.quote.casefold()]
        if not picked:
            raise InputError(f"no mention of {r.touchpoints[0]!r} in {r.record_id} quotes {r.quote!r}",
                             hint="Its quotes: " + " | ".join(m.quote for m in here[:5]))
    if r.action in ("rename", "merge", "split", "reassign") and not r.into.strip():
        raise InputError("the new touchpoint's name is empty", hint="Give a name")
    if r.action == "split" and not r.words:
        raise InputError("a split needs a word or phrase its mentions say", hint="Give one or more words")
    return list(dict.fromkeys(picked))


def known_touchpoint(name: str, known: set[str]) -> str:
    """`name` as the run spells it; an InputError naming the closest when there is none."""
    if name in known:
        return name
    raise InputError(f"no touchpoint {name!r} in the latest run", hint=_close(name, known))


def _close(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.5)
    return f"Did you mean {', '.join(map(repr, close))}?" if close else "`valuestory export touchpoints` lists them"


def queue(mentions: list[Mention], decided: set[tuple[str, str]], touchpoint: str | None = None) -> list[Mention]:
    """The mentions to review, least confident first (the likeliest to be wrong), without those
    a decision already speaks of."""
    left = [m for m in mentions if (m.record_id, m.quote) not in decided and (touchpoint is None or m.touchpoint == touchpoint)]
    return sorted(left, key=lambda m: (m.confidence, m.record_id, m.start))


def verdict(m: Mention, answer: str, known: set[str], fit: tuple[float, float] | None = None,
            scale: str = "") -> Recode | None:
    """The decision a verdict stands for (None: skip); an unknown verdict is an InputError.
    `fit` is the curve the run's confidences are on (the engine's own one is kept), `scale`
    the kind of coding they are of."""
    word, _, rest = answer.strip().partition(" ")
    word, rest = word.lower(), rest.strip()
    about = {"touchpoints": [m.touchpoint], "record_id": m.record_id, "quote": m.quote, "texts": [m.quote],
             "confidence": built_in(m.confidence, fit), "scale": scale}
    if word in ("y", "yes"):
        return Recode(action="confirm", polarity=m.polarity, sentiment=m.sentiment, **about)
    if word in ("n", "no"):
        return Recode(action="reject", **about)
    if word == "r":
        if not rest:
            raise InputError("name the touchpoint it is about: r NAME")
        if rest not in known:
            close = difflib.get_close_matches(rest, sorted(known), n=1, cutoff=0.6)
            if close and close[0].casefold() == rest.casefold():
                rest = close[0]
        return Recode(action="reassign", into=rest, **about)
    if word == "p":
        if rest.lower() not in POLARITY:
            raise InputError("give the polarity: p +, p 0 or p -")
        return Recode(action="polarity", polarity=POLARITY[rest.lower()], sentiment=m.sentiment, **about)
    if word in ("s", ""):
        return None
    raise InputError(f"unknown verdict {answer!r}")
