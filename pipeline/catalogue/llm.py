"""The catalogue on a model: coders' names matched to the seeds by meaning; the rest grouped
with their near-duplicates, and each group named and described by the model in one call."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from html import escape
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from valuestory import prompts
from valuestory.llm.runner import Answer, Request

from ..artefacts import Coding, EmergingTheme, Mention, Mentions, TouchpointDef
from ..contract import Corpus
from ..mentions.themes import MAX_QUOTES
from ..text import group_similar

PROMPT = "catalogue.v2"
SEED_MATCH = 0.8  # a coder's name this close in meaning to a seed touchpoint is that touchpoint
SAME_NAME = 0.85  # two coders' names this close in meaning name the same touchpoint
Channel = Literal["web", "email", "phone", "chat", "in person", "product", "document", "social", "unknown"]


class NamedGroup(BaseModel):
    group: int
    name: str = Field(min_length=2, max_length=60)
    description: str
    channel: Channel = "unknown"


class CatalogueAnswer(BaseModel):
    touchpoints: list[NamedGroup]


@dataclass
class Plan:
    counts: Counter
    renames: dict[str, str]  # coder's name -> seed name
    groups: list[list[str]]  # names that match no seed, near-duplicates together


def plan(corpus: Corpus, mentions: Mentions) -> Plan:
    seeds = mentions.touchpoints
    counts = Counter(m.touchpoint for m in mentions.mentions)
    if not counts:
        return Plan(counts, {}, [])
    names = list(counts)
    vectors = corpus.embed(names)
    seed_vectors = corpus.embed([t.name for t in seeds])
    seed_by_name = {t.name.lower(): t for t in seeds}
    renames: dict[str, str] = {}
    unmatched = []
    for name, v in zip(names, vectors, strict=True):
        if name.lower() in seed_by_name:
            renames[name] = seed_by_name[name.lower()].name
            continue
        sims = seed_vectors @ v
        best = int(np.argmax(sims))
        if sims[best] >= SEED_MATCH:
            renames[name] = seeds[best].name
        else:
            unmatched.append(name)
    keys = [" ".join(re.sub(r"s\b", "", w) for w in re.findall(r"[a-z0-9]+", n.lower())) for n in unmatched]
    groups = group_similar(keys, corpus.embed(unmatched), SAME_NAME) if unmatched else []
    return Plan(counts, renames, [[unmatched[i] for i in g] for g in groups])


def requests(corpus: Corpus, mentions: Mentions) -> list[Request]:
    p = plan(corpus, mentions)
    if not p.groups:
        return []
    # The first quote of each name, and no counts: records added later leave the request as it
    # was (answered from the cache) unless they bring a name of their own.
    examples: dict[str, str] = {}
    for m in mentions.mentions:
        examples.setdefault(m.touchpoint, m.quote)
    body = "\n".join(f"{i}. names: {', '.join(g)}; example: <quote>{escape(examples[g[0]][:200], quote=False)}</quote>"
                     for i, g in enumerate(p.groups, start=1))
    return [Request(stage="catalogue", key="catalogue",
                    messages=[{"role": "system", "content": prompts.render(PROMPT)}, {"role": "user", "content": body}],
                    schema=CatalogueAnswer, prompt_version=PROMPT, context=p)]


def parse(answers: list[Answer], fallback, corpus: Corpus, mentions: Mentions) -> Coding:
    p = answers[0].request.context if answers else plan(corpus, mentions)
    named = {t.group: t for t in answers[0].value.touchpoints} if answers and answers[0].value else {}
    renames = dict(p.renames)
    new_defs = []
    for i, g in enumerate(p.groups, start=1):
        t = named.get(i)
        name = t.name.strip() if t else g[0]
        new_defs.append(TouchpointDef(name=name, channel=t.channel if t else "unknown",
                                      description=t.description if t else f"Named by coders: {', '.join(g)}",
                                      origin="discovered"))
        renames.update({n: name for n in g})
    coded = [m.model_copy(update={"touchpoint": renames.get(m.touchpoint, m.touchpoint)}) for m in mentions.mentions]
    if corpus.codebook:  # the codebook is the catalogue: what it does not cover is listed apart
        names = {t.name for t in corpus.codebook}
        emerging = [_theme(t, [m for m in coded if m.touchpoint == t.name]) for t in new_defs]
        return Coding(touchpoints=list(corpus.codebook), mentions=[m for m in coded if m.touchpoint in names],
                      dropped=mentions.dropped, emerging=[e for e in emerging if e.records])
    used = {renames.get(n, n) for n in p.counts}
    return Coding(touchpoints=[t for t in mentions.touchpoints if t.name in used] + new_defs, mentions=coded,
                  dropped=mentions.dropped)


def _theme(t: TouchpointDef, mentions: list[Mention]) -> EmergingTheme:
    ids = list(dict.fromkeys(m.record_id for m in mentions))
    quotes = [next(m for m in mentions if m.record_id == rid).span for rid in ids[:MAX_QUOTES]]
    return EmergingTheme(theme=t.name, description=t.description, records=ids, quotes=quotes)
