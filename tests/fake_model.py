"""A stand-in model that answers every stage's request with a plausible answer of the
right shape, built from the request itself: quotes are copied from the records, citations
name the passages given. For tests and for measuring what a run sends."""

from __future__ import annotations

import hashlib
import json
import re

from valuestory.pipeline.library import LIBRARY

RECORD = re.compile(r"<(r\d+)>(.*?)(?=\n<r\d+>|\Z)", re.S)
PASSAGE = re.compile(r"<(e\d+)>")
NAMES = [t.name for t in LIBRARY] + ["Quote builder", "Scheduling board", "Offline notes"]


def answer(messages: list[dict], schema: dict) -> str:
    fields = schema.get("properties", {})
    user = next(m["content"] for m in messages if m["role"] == "user")  # the request, not a re-ask
    if "stories" in fields:
        return json.dumps(value_story(user))
    if "touchpoints" in fields and "Touchpoint:" in user:
        return json.dumps(opportunities(user))
    if "touchpoints" in fields:
        groups = re.findall(r"^(\d+)\. names: ([^(]+)", user, re.M)
        return json.dumps({"touchpoints": [{"group": int(n), "name": names.split(",")[0].strip(),
                                            "description": "A touchpoint", "channel": "product"}
                                           for n, names in groups]})
    return json.dumps(mentions(user))


def mentions(user: str) -> dict:
    """One mention per record, quoting its first words."""
    out = []
    for ref, text in RECORD.findall(user):
        words = re.sub(r"^[^:\n]{1,40}: ", "", text.strip().split("\n")[0]).split()[:8]
        if words:
            pick = int(hashlib.md5(text.encode()).hexdigest(), 16) % len(NAMES)
            out.append({"ref": ref, "touchpoint": NAMES[pick], "channel": "product", "quote": " ".join(words),
                        "sentiment": 0.0, "did_job": None, "confidence": 0.5})
    return {"mentions": out}


def value_story(user: str) -> dict:
    stories = []
    for decision, line in re.findall(r"^- ([a-z ]+): (<e.*)$", user, re.M):
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
    return {"stories": stories, "jobs": jobs}


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
