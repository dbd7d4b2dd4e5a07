"""The optional LLM judge: sensemaking stories and improvement hypotheses of a run, scored
against rubrics kept as data (`rubrics.toml`), each item shown with the customer passages it
cites. Scores are averaged per criterion with a bootstrap interval over items."""

from __future__ import annotations

import tomllib
from html import escape
from importlib.resources import files

from pydantic import BaseModel, Field

from valuestory import prompts
from valuestory.llm.models import ChatModel
from valuestory.llm.runner import Request, Runner
from valuestory.project import Project
from valuestory.stats import Interval, bootstrap
from valuestory.stores.runs import RunReader

CRITERIA = ("grounded", "specific", "non_generic")
MAX_ITEMS = 20  # per kind: a sample is enough to judge, and keeps the cost bounded


class Score(BaseModel):
    item: int
    grounded: int = Field(ge=1, le=5)
    specific: int = Field(ge=1, le=5)
    non_generic: int = Field(ge=1, le=5)
    reason: str = ""


class Judgement(BaseModel):
    scores: list[Score]


def rubrics() -> dict:
    return tomllib.loads(files("valuestory.evaluations").joinpath("rubrics.toml").read_text(encoding="utf-8"))


def items(project: Project, run: RunReader) -> dict[str, list[tuple[str, list[str]]]]:
    """(text to judge, the customer passages it cites) per kind."""
    texts = {r.record_id: r.text for r in project.ledger.records()}
    out: dict[str, list[tuple[str, list[str]]]] = {"stories": [], "opportunities": []}
    outputs = [("stories", h.model_dump()) for h in run.stories.hypotheses] + \
        [("opportunities", o.model_dump()) for o in run.opportunities.items]
    for kind, d in outputs:
        if kind == "stories":
            text = f"Decision: {d['decision']}. {d['explicit_story']} {d['implicit_story']}"
            quotes = [s["text"] for group in (d["context"], d["motivators"]) for v in group.values() for s in v
                      if s.get("verbatim")][:4] or [texts.get(r, "")[:240] for r in d["evidence"][:3]]
        else:
            text = (f"Touchpoint: {d['touchpoint']}. {d['hypothesis']} Change: {d['change']}. Resources: "
                    f"{d['resources']}. Success: {d['success_measure']}. Risk: {d['unintended_consequences']}")
            quotes = [q["text"] for q in d["quotes"][:4]]
        if len(out[kind]) < MAX_ITEMS:
            out[kind].append((text, quotes))
    return out


def judge_request(kind: str, batch: list[tuple[str, list[str]]], rubric: dict) -> Request:
    criteria = "\n".join(f"- {c}: {rubric[c]}" for c in CRITERIA)
    body = f"Items: {rubric['what']}.\nCriteria:\n{criteria}\n\n" + "\n".join(
        f"<i{n}>{escape(text, quote=False)}\n" + "\n".join(f"<quote>{escape(q, quote=False)}</quote>" for q in quotes)
        for n, (text, quotes) in enumerate(batch, start=1))
    return Request(stage=f"judge {kind}", key=kind, schema=Judgement, prompt_version="judge.v1",
                   messages=[{"role": "system", "content": prompts.render("judge.v1")}, {"role": "user", "content": body}],
                   check=lambda a, n=len(batch): [f"item {i} has no score" for i in range(1, n + 1)
                                                  if i not in {s.item for s in a.scores}])


def judge_run(project: Project, run: RunReader, model: ChatModel, eval_run_id: str) -> dict[str, Interval]:
    """judge_<kind>_<criterion> for stories and opportunities (1–5, mean over items)."""
    found = items(project, run)
    rules = rubrics()
    kinds = [k for k in found if found[k]]
    answers = Runner(model, project.ledger, eval_run_id).run([judge_request(k, found[k], rules[k]) for k in kinds])
    out = {}
    for kind, answer in zip(kinds, answers, strict=True):
        if answer.value is None:
            continue
        scores = [s for s in answer.value.scores if 1 <= s.item <= len(found[kind])]
        for c in CRITERIA:
            out[f"judge_{kind}_{c}"] = bootstrap(lambda xs, c=c: sum(getattr(s, c) for s in xs) / len(xs), scores)
    return out
