"""Stage 2, catalogue: which touchpoints there are.

With no codebook, touchpoints are discovered from the data, seeded by the built-in library:
library touchpoints the customers mention, plus the things they keep judging that the library
does not name ("the quote builder", "offline mode"), found as recurring noun phrases in
opinionated clauses and merged by their head word. With a codebook, the user's touchpoints
come first, and what fits none of them is listed as emerging.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from pathlib import Path

import yaml

from valuestory.errors import InputError
from valuestory.records import Record

from .cues import judge
from .library import LIBRARY, TouchpointDef
from .mentions import Catalogue, Mention, clauses, offline_mentions

STOP = set("""a an the and or but so to of in on at for with from by about as into over after before up
out off than then that this these those it its it's is was are were be been being am do does did has have had
i me my we us our you your they them their he she his her him what which who whom how why when where there here
not no very really just also too more most much many some any all every each other another one two three
can could would should will won't can't don't didn't doesn't wasn't isn't aren't get got getting go going
thing things way time times day days week weeks month months year years people guys lot bit company business
customer customers team crew guy someone everything anything nothing something because if while still even
same first last new old whole next end rest moment point part kind sort number top best only own work job jobs
person staff employees workers tech techs technicians clients client owner owners boss manager wife husband kids
family friend friends folks crews users user office morning evening night today reason problem problems issue
issues stuff idea side""".split())
VERBS = set("""is was are were be has have had does did keeps kept saves saved makes made takes took works worked
gets got looks feels needs goes went seems helps lets costs runs stops breaks crashes loads shows sends asks cuts
gives comes came means lost loses drops freezes fails failed changed changes moved moves told tells""".split())
DETERMINER = re.compile(r"\b(?:the|our|my|your|their|its|this|that|his|her|a|an|every|each|any|no)\s+"
                        r"((?:[a-z][a-z'-]+\s+){0,2}[a-z][a-z'-]+)", re.I)
# Words that qualify a thing without naming it: skipped before the noun, not taken as one.
QUALIFIER = set("""first second last next new old same whole proper real nice nicer clean simple quick fast slow big
small little good great bad better best worst own other another few couple single main""".split())


def load_codebook(path: Path) -> list[TouchpointDef]:
    """A codebook as YAML (a list of {name, description, examples, channel, owner, effort}) or
    CSV with those columns (examples separated by ' | '). Only `name` is required."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the codebook ({exc})", path=str(path),
                         hint="Give a UTF-8 YAML or CSV file") from None
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        entries = [{k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in rows]
        for e in entries:
            e["examples"] = [x.strip() for x in e.get("examples", "").split(" | ") if x.strip()]
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"not valid YAML ({exc})", path=str(path), hint="Fix the file") from None
        if isinstance(data, dict):
            data = data.get("touchpoints", data)
        if not isinstance(data, list):
            raise InputError("expected a list of touchpoints", path=str(path),
                             hint="Write a YAML list: - name: Pricing page")
        entries = [d if isinstance(d, dict) else {"name": str(d)} for d in data]
    out, seen = [], set()
    for n, e in enumerate(entries, start=1):
        name = str(e.get("name") or "").strip()
        if not name:
            raise InputError(f"touchpoint {n} has no name", path=str(path), line=n if path.suffix.lower() != ".csv" else n + 1,
                             hint="Every touchpoint needs a name; the other fields are optional")
        if name.lower() in seen:
            raise InputError(f"touchpoint '{name}' appears twice", path=str(path), hint="Merge the two entries")
        seen.add(name.lower())
        examples = e.get("examples") or []
        examples = [examples] if isinstance(examples, str) else [str(x) for x in examples]
        effort = str(e.get("effort") or "medium").lower()
        if effort not in ("low", "medium", "high"):
            raise InputError(f"touchpoint '{name}': effort '{effort}' is not low, medium or high",
                             path=str(path), hint="Use low, medium or high")
        words = re.escape(name.lower())
        out.append(TouchpointDef(name=name, channel=str(e.get("channel") or "unknown"),
                                 description=str(e.get("description") or name), cues=(words,),
                                 examples=tuple(examples), effort=effort, owner=str(e.get("owner") or ""),
                                 origin="codebook"))
    return out


SUBJECT = re.compile(r"^((?:[a-z][a-z'-]+\s+){0,2}[a-z][a-z'-]+)\s+(?:is|was|are|were|has|had|have|keeps|kept|"
                     r"works|worked|doesn't|didn't|isn't|wasn't|needs|took|takes|makes|made|could|would|"
                     r"should|still|just|never|always|also|cuts|saves|gets|feels|looks|seems|make|makes|"
                     r"in|with|for|on|go|went)\b|^((?:[a-z][a-z'-]+\s+){0,2}[a-z][a-z'-]+),", re.I)


def noun_phrases(text: str) -> list[str]:
    """Phrases after a determiner, or opening a sentence before its verb (or a comma), trimmed
    to their nominal part: 'the quote builder is ...', 'a proper quote', 'Offline mode doesn't ...'."""
    found = []
    matches = list(DETERMINER.finditer(text))
    subject = SUBJECT.match(text.strip())
    opening = [subject.group(1) or subject.group(2)] if subject else []
    for words in [m.group(1) for m in matches] + opening:
        words = words.lower().split()
        while words and words[0] in QUALIFIER:
            words = words[1:]
        kept = []
        for w in words:
            if w in STOP or w in VERBS or w in QUALIFIER or (kept and len(w) > 4 and w.endswith(("ed", "ing"))):
                break
            kept.append(w.strip("'"))
        while kept and kept[-1] in STOP:
            kept.pop()
        if kept and len(kept[-1]) > 2:
            found.append(" ".join(kept))
    return found


def _head(phrase: str) -> str:
    """The noun a phrase is about, in the singular, so 'the quotes' and 'a quote' count together."""
    return singular(phrase.split()[-1])


def singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def discover(records: list[Record], mentioned: set[tuple[str, int, int]], known: list[TouchpointDef],
             min_records: int = 3) -> list[TouchpointDef]:
    """Touchpoints the catalogue misses: head nouns that recur, across records, in clauses
    that carry a judgement and matched no known touchpoint."""
    support: dict[str, set[str]] = defaultdict(set)
    opinions: Counter = Counter()
    forms: dict[str, Counter] = defaultdict(Counter)
    examples: dict[str, str] = {}
    known_words = {singular(w) for t in known for w in re.findall(r"[a-z]+", t.name.lower())}
    for r in records:
        for c in clauses(r):
            if (c.record_id, c.start, c.end) in mentioned:
                continue
            sentiment, _ = judge(c.text)
            for phrase in noun_phrases(c.text):
                head = _head(phrase)
                if head in STOP or head in known_words:
                    continue
                support[head].add(r.record_id)
                forms[head][phrase] += 1
                if abs(sentiment) >= 0.25:
                    opinions[head] += 1
                    examples.setdefault(head, c.text)
    threshold = max(min_records, int(0.003 * len(records)))
    found = []
    for head, ids in sorted(support.items(), key=lambda kv: -len(kv[1])):
        if len(ids) < threshold or opinions[head] < 2:
            continue
        name = forms[head].most_common(1)[0][0]
        variants = sorted(forms[head], key=len, reverse=True)
        found.append(TouchpointDef(
            name=name[0].upper() + name[1:], channel="product" if len(name.split()) > 1 else "unknown",
            description=f"Discovered: named in {len(ids)} records, e.g. \u201c{examples[head][:120]}\u201d",
            cues=tuple(re.escape(v) for v in variants[:8]) + (rf"\b{re.escape(head)}s?\b",), origin="discovered"))
    return found


def build_offline(records: list[Record], embed, codebook: list[TouchpointDef] | None = None
                  ) -> tuple[list[TouchpointDef], list[Mention]]:
    """The catalogue and the mentions assigned to it, offline."""
    if codebook:
        primary = Catalogue(codebook, embed, min_similarity=0.5)
        mentions = offline_mentions(records, primary)
        taken = {(m.record_id, m.start, m.end) for m in mentions}
        extra = [m for m in offline_mentions(records, Catalogue(list(LIBRARY), embed))
                 if (m.record_id, m.start, m.end) not in taken]
        emerging = {m.touchpoint for m in extra}
        defs = codebook + [TouchpointDef(**{**t.__dict__, "origin": "emerging"}) for t in LIBRARY if t.name in emerging]
        return defs, mentions + extra
    library = list(LIBRARY)
    first = offline_mentions(records, Catalogue(library, embed))
    found = discover(records, {(m.record_id, m.start, m.end) for m in first}, library)
    if not found:
        return _used(library, first), first
    catalogue = Catalogue(library + found, embed)
    mentions = offline_mentions(records, catalogue)
    return _used(library + found, mentions), mentions


def _used(defs: list[TouchpointDef], mentions: list[Mention]) -> list[TouchpointDef]:
    names = {m.touchpoint for m in mentions}
    return [t for t in defs if t.name in names]
