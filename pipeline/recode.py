"""Recoding: a researcher's decisions about the catalogue, applied to every run's coding.

Rename, merge, split (by words in the quote) and tag touchpoints; reassign a mention to
another touchpoint or reject it. The decisions are stored with the project (`valuestory
code`), in order, and applied by the catalogue stage on whatever engine coded the mentions,
so they outlast re-runs. Applying a decision twice changes nothing the first did not: a
renamed touchpoint is gone, a split's words are no longer in what is left, a rejected
mention is not there.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from .artefacts import Coding, Mention, TouchpointDef

Action = Literal["rename", "merge", "split", "tag", "reassign", "reject", "confirm", "polarity"]
Polarity = Literal["positive", "neutral", "negative"]
# the sentiment a mention takes when the researcher sets its polarity (the engine's own value
# is kept when it already has that polarity)
SET_SENTIMENT: dict[str, float] = {"positive": 0.5, "neutral": 0.0, "negative": -0.5}


class Recode(BaseModel):
    number: int = 0  # its place in the project's decisions
    action: Action
    touchpoints: list[str]  # what it acts on (merge: several)
    into: str = ""  # rename, merge, split, reassign: the touchpoint the mentions go to
    words: list[str] = []  # split: mentions whose quote says any of these go to `into`
    tag: str = ""
    record_id: str = ""  # reassign, reject: the mention's record
    quote: str = ""  # reassign, reject, confirm, polarity: a part of the mention's quote, when the record has several
    polarity: Polarity | None = None  # polarity: the mention's right polarity (confirm: its polarity, right)
    sentiment: float | None = None  # confirm, polarity: the engine's sentiment of the mention judged
    confidence: float | None = None  # the engine's own confidence of the mention judged (its built-in curve)
    scale: str = ""  # the kind of coding that confidence was of (`Mentions.scale`)
    # the whole quotes of the mentions the decision was made on: what the engine learns from
    texts: list[str] = []

    def describe(self) -> str:
        where = f" in {self.record_id}" + (f" (“{self.quote}”)" if self.quote else "") if self.record_id else ""
        return {
            "rename": f"rename {self.touchpoints[0]} to {self.into}",
            "merge": f"merge {', '.join(self.touchpoints)} into {self.into}",
            "split": f"split {', '.join(self.words)} out of {self.touchpoints[0]} as {self.into}",
            "tag": f"tag {self.touchpoints[0]} as {self.tag}",
            "reassign": f"reassign {self.touchpoints[0]}{where} to {self.into}",
            "reject": f"reject {self.touchpoints[0]}{where}",
            "confirm": f"confirm {self.touchpoints[0]}{where}",
            "polarity": f"set {self.touchpoints[0]}{where} to {self.polarity}",
        }[self.action]


def apply(coding: Coding, recodes: tuple[Recode, ...] | list[Recode]) -> Coding:
    """The coding with every decision applied in order; `recoded` says how many mentions each
    one changed in this run (0 for one that finds nothing to change any more)."""
    if not recodes:
        return coding
    defs = {t.name: t for t in coding.touchpoints}
    mentions = list(coding.mentions)
    changed: dict[int, int] = {}
    rejected = coding.rejected
    for r in recodes:
        before = len(mentions)
        if r.action == "reject":
            mentions = [m for m in mentions if not _picked(m, r)]
            changed[r.number] = before - len(mentions)
            rejected += before - len(mentions)
            continue
        if r.action == "confirm":  # right as it is: it teaches the engine and changes nothing
            changed[r.number] = sum(_picked(m, r) for m in mentions)
            continue
        if r.action == "polarity":
            picked = [i for i, m in enumerate(mentions) if _picked(m, r) and m.polarity != r.polarity]
            for i in picked:
                mentions[i] = mentions[i].model_copy(update={"polarity": r.polarity,
                                                             "sentiment": SET_SENTIMENT[r.polarity]})
            changed[r.number] = len(picked)
            continue
        if r.action == "tag":
            if (t := defs.get(r.touchpoints[0])) is not None:
                defs[t.name] = t.model_copy(update={"tags": tuple(dict.fromkeys((*t.tags, r.tag)))})
            changed[r.number] = sum(m.touchpoint == r.touchpoints[0] for m in mentions)
            continue
        moved = [i for i, m in enumerate(mentions) if _picked(m, r)]
        for i in moved:
            mentions[i] = mentions[i].model_copy(update={"touchpoint": r.into})
        changed[r.number] = len(moved)
        if r.into not in defs and (moved or r.action in ("rename", "merge")):
            defs[r.into] = _target(r, defs)
        if r.action in ("rename", "merge"):
            for name in r.touchpoints:
                if name != r.into:
                    defs.pop(name, None)
    named = {m.touchpoint for m in mentions}
    kept = [t for t in defs.values() if t.name in named or t.origin == "codebook"]
    return coding.model_copy(update={"touchpoints": kept, "mentions": mentions, "recoded": changed,
                                     "rejected": rejected})


def _picked(m: Mention, r: Recode) -> bool:
    """Whether a decision takes this mention."""
    if m.touchpoint not in r.touchpoints:
        return False
    if r.action == "split":
        return any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", m.quote, re.I) for w in r.words)
    if r.action in ("reassign", "reject", "confirm", "polarity"):
        return m.record_id == r.record_id and (not r.quote or r.quote.casefold() in m.quote.casefold())
    return True  # rename, merge: every mention


def _target(r: Recode, defs: dict[str, TouchpointDef]) -> TouchpointDef:
    """The touchpoint a decision creates: the first source's channel, owner and effort."""
    source = next((defs[n] for n in r.touchpoints if n in defs), None)
    base = {"channel": source.channel, "owner": source.owner, "effort": source.effort} if source else {}
    if r.action == "rename" and source is not None:
        return source.model_copy(update={"name": r.into})
    description = (f"Split from {r.touchpoints[0]}: mentions of {', '.join(r.words)}" if r.action == "split"
                   else f"Merged from {', '.join(r.touchpoints)}" if r.action == "merge" else "")
    merged_examples = tuple(e for n in r.touchpoints if n in defs for e in defs[n].examples)
    return TouchpointDef(name=r.into, description=description, origin="recoded",
                         examples=tuple(r.words) if r.action == "split" else merged_examples, **base)
