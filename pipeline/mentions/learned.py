"""What the researcher's corrections teach the offline engine.

Every decision about a mention (`valuestory code reassign|reject`, a verdict in `valuestory
review`, the agreements and disagreements of an `eval --labels --learn` file) keeps the
quotes it was made on. Read in order, they say per code which texts are about it (a
confirmed or reassigned mention), which are not (a rejected one, or the code a mention was
moved from) and, per code, which polarity a text has. A rename or merge carries a code's
lessons to its new name. The engines use them as examples: the codebook's classifier trains on
them, the library's touchpoints take them as prototypes, a clause closest to a rejected text
loses that code, and each code with enough texts of known polarity (confirmed or corrected)
gets its own neutral band: where that code's judgements turn from neutral to positive or
negative for this researcher (restaurant reviewers call "we sat at the bar" neutral about the
place; a support team may call every mention of a refund a complaint).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from ..artefacts import TouchpointDef
from ..recode import Recode
from .cues import NEUTRAL, judge, polarity


@dataclass
class Lessons:
    right: dict[str, list[str]] = field(default_factory=dict)  # code -> texts about it
    wrong: dict[str, list[str]] = field(default_factory=dict)  # code -> texts not about it
    # code -> (text, polarity, the engine's sentiment of it when judged, or None)
    polarity: dict[str, list[tuple[str, str, float | None]]] = field(default_factory=dict)
    # (record id, text) of the mentions decided on: the decisions themselves move or drop
    # those (`recode.apply`), so that `code list` can say what each one changed
    decided: set[tuple[str, str]] = field(default_factory=set)
    # (record id, text) -> (the engine's confidence, whether its code was right, the kind of
    # coding that confidence was of): the last verdict on each
    verdicts: dict[tuple[str, str], tuple[float, bool, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.right or self.wrong or self.polarity)

    def digest(self) -> str:
        """Changes whenever what the engine learns changes (empty: always the same)."""
        data = json.dumps([self.right, self.wrong, self.polarity, sorted(self.decided),
                           sorted((*k, *v) for k, v in self.verdicts.items())], sort_keys=True)
        return hashlib.sha256(data.encode()).hexdigest()[:16] if self else "none"

    def counts(self) -> dict[str, dict[str, int]]:
        """Per code, how many texts teach it: right, wrong and with a polarity."""
        codes = sorted(self.right.keys() | self.wrong.keys() | self.polarity.keys())
        return {c: {"right": len(self.right.get(c, [])), "wrong": len(self.wrong.get(c, [])),
                    "polarity": len(self.polarity.get(c, []))} for c in codes}


def lessons(recodes: tuple[Recode, ...] | list[Recode]) -> Lessons:
    """The lessons of the decisions in force, in their order."""
    out = Lessons()

    def add(book: dict, code: str, items: list, unsay: dict | None = None) -> None:
        kept = book.setdefault(code, [])
        kept += [i for i in items if i not in kept]
        if unsay is not None and code in unsay:  # the later decision about a text stands
            unsay[code] = [t for t in unsay[code] if t not in items]

    def polar(code: str, r: Recode) -> None:  # the later polarity said of a text stands
        out.polarity[code] = [x for x in out.polarity.get(code, []) if x[0] not in r.texts]
        add(out.polarity, code, [(t, r.polarity, r.sentiment) for t in r.texts])

    for r in recodes:
        code = r.touchpoints[0] if r.touchpoints else ""
        if r.record_id:
            out.decided |= {(r.record_id, t) for t in r.texts}
        if r.confidence is not None and r.action in RIGHT | WRONG:
            out.verdicts |= {(r.record_id, t): (r.confidence, r.action in RIGHT, r.scale) for t in r.texts}
        if r.action in ("rename", "merge"):
            for book in (out.right, out.wrong, out.polarity):
                for name in r.touchpoints:
                    if name != r.into and name in book:
                        add(book, r.into, book.pop(name))
        elif r.action == "reassign":
            add(out.wrong, code, r.texts, out.right)
            add(out.right, r.into, r.texts, out.wrong)
        elif r.action == "reject":
            add(out.wrong, code, r.texts, out.right)
        elif r.action in RIGHT:  # confirm (its polarity right too, when given) or a polarity set
            add(out.right, code, r.texts, out.wrong)
            if r.polarity:
                polar(code, r)
    out.right, out.wrong, out.polarity = ({c: t for c, t in book.items() if t}
                                          for book in (out.right, out.wrong, out.polarity))
    return out


RIGHT = frozenset({"confirm", "polarity"})  # verdicts that the mention's code was right
WRONG = frozenset({"reject", "reassign"})
# A rejected text takes its code away from clauses this close to it (and closer to it than to
# any text confirmed for the code): the same answer again, or nearly ("The app is great." and
# "The app is great!" are 0.97 alike in WordLlama; "Instant payouts!" and "Instant payout costs
# 1%", which a rejection must not take along, 0.81). On held-out parts, where no text repeats,
# 0.8 and 0.9 measured the same.
VETO_SIMILARITY = 0.9
# Without a codebook, a clause this close to a text confirmed for a code is about that code
# too; the library's touchpoints keep their own prototypes (confirmed texts among them made
# clauses merely like them match: touchpoint F1 on the sample's test split fell 0.77 -> 0.73).
KNOWN_SIMILARITY = 0.9
TAUGHT_CONFIDENCE = 0.8  # of a mention a confirmed text gave
# A code's neutral band is learned from this many texts of known polarity or more, among these
# widths (in sentiment, either side of 0); ties keep the width nearest the engine's own.
MIN_POLARITY_TEXTS = 5
BAND_GAIN = 0.1  # a learned band must be right on this share of the texts more than the engine's
BANDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)


class Teacher:
    """The lessons as the offline engine applies them, over one embedding."""

    def __init__(self, taught: Lessons, embed) -> None:
        self.decided = taught.decided
        self.right = {c: embed(t) for c, t in taught.right.items()}
        self.wrong = {c: embed(t) for c, t in taught.wrong.items()}
        self.bands = {c: band([(judge(t)[0] if s is None else s, p) for t, p, s in items])
                      for c, items in taught.polarity.items() if len(items) >= MIN_POLARITY_TEXTS}

    def taught(self, vector: np.ndarray) -> list[str]:
        """The codes a clause this close to one of their confirmed texts is about."""
        return [c for c, vectors in self.right.items() if float((vectors @ vector).max()) >= KNOWN_SIMILARITY]

    def corrected(self, hits: list[tuple[int, float]], vector: np.ndarray, catalogue, give: bool = True,
                  clause: tuple[str, str] | None = None) -> list[tuple[int, float]]:
        """A clause's codes (catalogue index, confidence) without those a rejected text close
        to it takes away, and with `give` those a confirmed text close to it gives (a
        codebook's classifier learns the confirmed texts as examples instead). A `clause`
        (record id, text) a decision is about is left to the decision."""
        if clause in self.decided:
            return hits
        names = [t.name for t in catalogue.touchpoints]
        kept = [(j, c) for j, c in hits if not self.vetoed(names[j], vector)]
        have = {j for j, _ in kept}
        for code in self.taught(vector) if give else []:
            if code in names and (j := names.index(code)) not in have and not self.vetoed(code, vector):
                kept.append((j, TAUGHT_CONFIDENCE))
        return kept

    def vetoed(self, code: str, vector: np.ndarray) -> bool:
        """Whether the clause is closest to a text the researcher said is not about `code`."""
        if code not in self.wrong:
            return False
        against = float((self.wrong[code] @ vector).max())
        for_it = float((self.right[code] @ vector).max()) if code in self.right else -1.0
        return against >= VETO_SIMILARITY and against > for_it

    def sentiment(self, code: str, value: float) -> float:
        """The value, moved just across the code's learned neutral band where the band gives
        it another polarity than the engine's own band does."""
        if code not in self.bands:
            return value
        taught = polarity(value, self.bands[code])
        if taught == polarity(value):
            return value
        return 0.0 if taught == "neutral" else max(value, NEUTRAL) if taught == "positive" else min(value, -NEUTRAL)


def band(examples: list[tuple[float, str]]) -> float:
    """The neutral band's width that gives the most of these (sentiment, polarity) their
    polarity, when it gives BAND_GAIN of them more than the engine's own width does."""
    def right(width: float) -> int:
        return sum(polarity(s, width) == p for s, p in examples)
    best = max(BANDS, key=lambda w: (right(w), -abs(w - NEUTRAL)))
    return best if right(best) - right(NEUTRAL) >= BAND_GAIN * len(examples) else NEUTRAL


def taught_codes(codes: list[TouchpointDef], taught: Lessons, examples: bool = True) -> list[TouchpointDef]:
    """The codes (with `examples`, the texts confirmed for each among their examples), and a
    code for each name the researcher moved mentions to that the catalogue lacks."""
    known = {t.name for t in codes}
    out = [t.model_copy(update={"examples": tuple(dict.fromkeys((*t.examples, *taught.right[t.name])))})
           if examples and t.name in taught.right else t for t in codes]
    out += [TouchpointDef(name=name, description=name, examples=tuple(texts), origin="recoded")
            for name, texts in taught.right.items() if name not in known]
    return out
