"""Discovery: the touchpoints the library misses, offline.

The things customers keep judging that the library does not name ("the quote builder",
"offline mode"), found as recurring noun phrases in opinionated clauses that matched no known
touchpoint, and merged by their head word.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from valuestory.records import Record

from ..artefacts import TouchpointDef
from ..text import clauses
from .cues import judge

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
issues stuff idea side
thanks thank please cheers sorry hello hi bye""".split())  # courtesies name nothing judged
VERBS = set("""is was are were be has have had does did keeps kept saves saved makes made takes took works worked
gets got looks feels needs goes went seems helps lets costs runs stops breaks crashes loads shows sends asks cuts
gives comes came means lost loses drops freezes fails failed changed changes moved moves told tells""".split())
DETERMINER = re.compile(r"\b(?:the|our|my|your|their|its|this|that|his|her|a|an|every|each|any|no)\s+"
                        r"((?:[a-z][a-z'-]+\s+){0,2}[a-z][a-z'-]+)", re.I)
# Words that qualify a thing without naming it: skipped before the noun, not taken as one.
QUALIFIER = set("""first second last next new old same whole proper real nice nicer clean simple quick fast slow big
small little good great bad better best worst own other another few couple single main""".split())


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
