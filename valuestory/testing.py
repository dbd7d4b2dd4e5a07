"""Test doubles that tests and benchmarks share: `ScriptedModel`, a chat model that answers
from a script, and `answer`, a stand-in that answers every stage's request with a plausible
answer of the right shape built from the request itself (quotes by the clause numbers shown,
citations naming the passages given), for measuring what a run sends."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from valuestory.llm.models import Completion
from valuestory.pipeline.mentions.library import LIBRARY
from valuestory.tokens import count_tokens

PASSAGE = re.compile(r"<(e\d+)>")
NAMES = [t.name for t in LIBRARY] + ["Quote builder", "Scheduling board", "Offline notes"]


def answer(messages: list[dict], schema: dict) -> str:
    fields = schema.get("properties", {})
    user = next(m["content"] for m in messages if m["role"] == "user")  # the request, not a re-ask
    if "stories" in fields:
        return json.dumps(value_story(user))
    if "assessments" in fields:
        return json.dumps(roles(user))
    if "touchpoints" in fields and "Touchpoint:" in user:
        return json.dumps(opportunities(user))
    if "touchpoints" in fields:
        groups = re.findall(r"^(\d+)\. names: ([^;]+)", user, re.M)
        return json.dumps({"touchpoints": [{"group": int(n), "name": names.split(",")[0].strip(),
                                            "description": "A touchpoint", "channel": "product"}
                                           for n, names in groups]})
    return json.dumps(mentions(user))


CLAUSE = re.compile(r"(?<!\S)\|(\d+) ")  # the number before a customer's clause (mentions.v6)
RECORDS = "\n\n"  # between the records of a mentions request


def clauses(user: str) -> list[tuple[int, str]]:
    """A mentions request's numbered customer clauses, as (number, text)."""
    marks = list(CLAUSE.finditer(user))
    ends = [m.start() for m in marks[1:]] + [len(user)]
    return [(int(m.group(1)), user[m.end():end].split(RECORDS)[0].split("\n")[0].strip())
            for m, end in zip(marks, ends, strict=True)]


def mentions(user: str) -> dict:
    """One mention per record, quoting its first numbered clause (the customer's words)."""
    out = []
    for text in user.split(RECORDS):
        if first := CLAUSE.search(text):
            pick = int(hashlib.md5(text.encode()).hexdigest(), 16) % len(NAMES)
            out.append({"says": [int(first.group(1))], "touchpoint": NAMES[pick], "sentiment": 0.0,
                        "confidence": 0.5})
    return {"mentions": out}


CODED_SHARE = (3, 5)  # a mention for 3 of every 5 clauses: the sample's hand labels code 857 in ~1,400


def terse(messages: list[dict], schema: dict) -> str:
    """A stand-in closer to a real model's output than `answer`: as many mentions as hand
    coders find (CODED_SHARE of the clauses) with only the fields the schema requires, in
    compact JSON; the other stages as `answer`, compact. For measuring output tokens."""
    user = next(m["content"] for m in messages if m["role"] == "user")
    if "mentions" not in schema.get("properties", {}):
        return json.dumps(json.loads(answer(messages, schema)), separators=(",", ":"))
    found, (coded, every) = [], CODED_SHARE
    for text in user.split(RECORDS):
        for i, n in enumerate(CLAUSE.findall(text)):
            if (i * coded) % every < coded:
                pick = int(hashlib.md5(f"{text}{n}".encode()).hexdigest(), 16)
                found.append({"says": [int(n)], "touchpoint": NAMES[pick % len(NAMES)],
                              "sentiment": round((pick % 21 - 10) / 10, 1), "confidence": 0.8})
    return json.dumps({"mentions": found}, separators=(",", ":"))


def value_story(user: str) -> dict:
    stories = []
    for decision, line in re.findall(r"^- ([a-z ]+?)(?: \(focus\))?: (<e.*)$", user, re.M):
        tags = PASSAGE.findall(line)
        stories.append({"decision": decision, "focus": "prevention", "evidence": tags,
                        "points": [{"kind": "situation", "text": "They were losing time on paperwork.",
                                    "evidence": tags[:1]},
                                   {"kind": "emotional_drivers", "text": "They feared looking unprofessional.",
                                    "evidence": tags[-1:]}],
                        "explicit_story": "I was drowning in paperwork, so I went looking.",
                        "implicit_story": "Beneath the words, they want to be taken seriously."})
    needs = user.split("Needs and gaps:")[-1]
    tags = PASSAGE.findall(needs) or PASSAGE.findall(user)
    gap = next((m.group(0) for m in re.finditer(r"\b(?:I|we) can(?:'|no)t [^.<\n]{3,60}", needs)), "")
    jobs = [{"job": "Send the bill before leaving the site", "delta": "Minimize", "measure": "the time it takes",
             "focus": "to get paid for a finished job", "value_gap": gap,
             "value_promise": "Get paid the day the work is done.", "evidence": tags[:2]}] if tags else []
    before_after = re.findall(r"^<(e\d+)>(.*)$", user.split("Before and after:")[-1], re.M)
    storyline = {"summary": "They went from chasing work to running it.",
                 "moments": [{"side": "before", "quote": " ".join(text.split()[:6]), "evidence": tag}
                             for tag, text in before_after[:1]]}
    return {"stories": stories, "jobs": jobs, "storyline": storyline}


def roles(user: str) -> dict:
    """An assessment per phase listed, citing the phase's passages."""
    out = []
    for block in user.split("Phase: ")[1:]:
        phase = block.split(";")[0].strip()
        tags = PASSAGE.findall(block) or ["e1"]
        out.append({"phase": phase, "assessment": f"Customers say the company guides them in {phase}, with gaps.",
                    "evidence": tags[:2]})
    return {"assessments": out}


def opportunities(user: str) -> dict:
    out = []
    for block in user.split("Touchpoint: ")[1:]:
        name, _, rest = block.partition("\n")
        tags = PASSAGE.findall(rest) or ["e1"]
        out.append({"touchpoint": name.strip(), "hypotheses": [
            {"hypothesis": f"Idea {i} for {name.strip()}", "change": "Change one step", "resources": "A team for a week",
             "success_measure": "Fewer complaints", "unintended_consequences": "None expected",
             "evidence": tags[:1 + i % 2]} for i in range(5)]})
    return {"touchpoints": out}


@dataclass
class ScriptedModel:
    """A model that answers from a script: strings, or exceptions to raise. For tests, and
    for measuring what a run would send (`on_call` sees every request)."""

    answers: list = field(default_factory=list)
    name: str = "scripted"
    mode: str = "json_schema"
    on_call: Callable[[list[dict], dict], str] | None = None
    calls: list[list[dict]] = field(default_factory=list)

    def enqueue(self, *answers) -> ScriptedModel:
        self.answers.extend(answers)
        return self

    def complete(self, messages: list[dict], schema: dict, schema_name: str) -> Completion:
        self.calls.append(messages)
        if self.on_call is not None:
            answer = self.on_call(messages, schema)
        elif self.answers:
            answer = self.answers.pop(0)
        else:
            raise AssertionError("the scripted model ran out of answers")
        if isinstance(answer, BaseException):
            raise answer
        answer = answer if isinstance(answer, str) else json.dumps(answer)
        return Completion(answer, sum(count_tokens(m["content"]) for m in messages), count_tokens(answer), self.mode)
