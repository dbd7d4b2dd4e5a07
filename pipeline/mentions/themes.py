"""Themes by meaning: what recurs among the clauses no code fits.

The uncoded clauses that judge something are clustered by their embeddings (each joins the
closest theme when close enough, else starts one); a theme that several records raise is
kept, and named by the noun phrase its clauses use most ("Parking was a nightmare", "the
parking is terrible" make a theme "Parking"), in the customers' own words; clauses that share
no name, or only a person's or a product's, make no theme. Nothing here knows any industry.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from valuestory.records import Record

from ..artefacts import EmergingTheme
from ..text import Clause
from .cues import NEUTRAL, judge
from .discover import _head, noun_phrases

SIMILARITY = 0.35  # a clause this close in meaning to a theme's centre joins it
MIN_RECORDS = 2  # a theme one record raises is not recurring
MIN_WORDS = 3  # shorter clauses say too little to be grouped by meaning
MAX_QUOTES = 3


def themes(records: list[Record], uncoded: list[Clause], embed) -> list[EmergingTheme]:
    """Recurring themes among clauses no code fits, largest first."""
    opinions = [c for c in uncoded if len(c.text.split()) >= MIN_WORDS and _judges(c.text)]
    if not opinions:
        return []
    vectors = embed([c.text for c in opinions])
    clusters = _cluster(vectors)
    out = []
    for members in clusters:
        group = [opinions[i] for i in members]
        ids = list(dict.fromkeys(c.record_id for c in group))
        if len(ids) < MIN_RECORDS:
            continue
        name = _name(group)
        if name is None:
            continue
        centre = vectors[members].mean(axis=0)
        head = _head(name.lower())
        # the examples shown say the theme's name, the most typical first
        typical = sorted(members, key=lambda i: (head not in opinions[i].text.lower(), -float(vectors[i] @ centre)))
        quotes, seen = [], set()
        for i in typical:
            if opinions[i].record_id not in seen and len(quotes) < MAX_QUOTES:
                quotes.append(opinions[i].span)
                seen.add(opinions[i].record_id)
        out.append(EmergingTheme(theme=name, description=f"Said in {len(ids)} records", records=ids, quotes=quotes))
    merged: dict[str, EmergingTheme] = {}
    for t in out:  # two clusters that name themselves alike are one theme
        if t.theme in merged:
            m = merged[t.theme]
            m.records = list(dict.fromkeys(m.records + t.records))
            m.description = f"Said in {len(m.records)} records"
        else:
            merged[t.theme] = t
    return sorted(merged.values(), key=lambda t: -len(t.records))


def _judges(text: str) -> bool:
    """Whether a clause judges something: a feeling either way, or that a thing did or did not work."""
    sentiment, did_job = judge(text)
    return abs(sentiment) >= NEUTRAL or did_job is not None


def _cluster(vectors: np.ndarray) -> list[list[int]]:
    """Leader clustering on unit vectors: each item joins the closest centre when at least
    SIMILARITY close, else starts a cluster; centres are running means."""
    centres: list[np.ndarray] = []
    members: list[list[int]] = []
    for i, v in enumerate(vectors):
        if centres:
            sims = np.array([float(c @ v) / (np.linalg.norm(c) or 1.0) for c in centres])
            best = int(np.argmax(sims))
            if sims[best] >= SIMILARITY:
                members[best].append(i)
                centres[best] = centres[best] + (v - centres[best]) / len(members[best])
                continue
        centres.append(v.astype(np.float32).copy())
        members.append([i])
    return members


def _name(group: list[Clause]) -> str | None:
    """The noun phrase the theme's clauses use most, in at least MIN_RECORDS of them; None
    when they share none, or when it is one word never written in lower case (a person's or
    a product's name is not a theme)."""
    heads: Counter = Counter()
    forms: dict[str, Counter] = {}
    for c in group:
        for phrase in set(noun_phrases(c.text)):
            head = _head(phrase)
            heads[head] += 1
            forms.setdefault(head, Counter())[phrase] += 1
    for head, n in heads.most_common():
        if n < MIN_RECORDS:
            return None
        name = forms[head].most_common(1)[0][0]
        if len(name.split()) == 1 and not any(re.search(rf"\b{re.escape(name)}", c.text) for c in group):
            continue  # never written in lower case: a name, not a thing
        return name[0].upper() + name[1:]
    return None
