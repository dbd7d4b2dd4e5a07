"""Sentiment and function in customer-experience language.

A general sentiment lexicon (VADER) reads "the checkout kept crashing" or "I couldn't find
pricing" as neutral. CX text carries its judgement in friction, effort and failure words, in
negated praise ("not seamless") and in relief ("no more chasing cheques"); these cues add
that, on top of VADER's handling of intensity and punctuation.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..text import AFFIRM, DENY

VERSION = "cues.v5"  # part of the offline engine's version: changed cues are a new engine
NEUTRAL = 0.15  # below this, in either direction, words carry no judgement

NEGATOR = re.compile(r"\b(?:not|no|never|nobody|nothing|without|hardly|barely|isn't|wasn't|aren't|"
                     r"weren't|don't|doesn't|didn't|won't|can't|cannot|couldn't|wouldn't|haven't|hasn't|"
                     # as typed in a hurry, without the apostrophe: "didnt even complain"
                     r"isnt|wasnt|arent|werent|dont|doesnt|didnt|wont|cant|couldnt|wouldnt|havent|hasnt)\b|n't\b", re.I)

# (pattern, weight, functional): functional True/False says whether the touchpoint did its job
CUES: tuple[tuple[str, float, bool | None], ...] = (
    # failure and friction
    (r"crash\w*|froze|freez\w*|glitch\w*|bugg?y|\bbugs?\b|errors?\b|broken|broke\b|breaks\b", -0.7, False),
    (r"\bfail\w*|not work\w*|doesn't work|didn't work|won't work|stopped working|does not work|did not work", -0.7, False),
    (r"\blost\b|\blose\b|\bloses\b|vanish\w*|disappear\w*|gone\b|wiped", -0.6, False),
    (r"duplicat\w*|double[- ](?:charg|bill|book)\w*|charged (?:us |me )?twice|twice\b|three times", -0.6, False),
    (r"wrong\b|mangl\w*|mess(?:ed)? up|incorrect", -0.6, False),
    (r"locked out|lock ?out|can't log|couldn't log|outage|\bdown\b|not loading|won't load|spinn\w*|stuck", -0.7, False),
    (r"disconnect\w*|(?:drops?|dropped|dropping) (?:the |my |our )?(?:connection|bluetooth|calls?|signal|out)|"
     r"keeps dropping|unreliable|flaky|drains?\b|died\b|dead\b", -0.6, False),
    (r"\bslow\w*|delay\w*|slipp(?:ed|ing)\b|pushed back|\blate\b|took (?:\w+ )?(?:days|weeks|months|hours|forever)|forever|takes (?:\w+ )?(?:days|weeks)", -0.6, False),
    (r"clos(?:es|ed|ing) (?:at|by|early)|only open|not open|no (?:weekend|evening|phone|live) (?:support|cover\w*)|"
     r"no support (?:on|at|after)|out of hours", -0.5, False),
    (r"still (?:not|no|waiting|missing|broken|weak|unreliable|a mess)|not there yet|no date|never happened|"
     r"never delivered|held (?:for|up)|locked (?:me|us) out", -0.5, False),
    (r"wait\w*|on hold|no (?:answer|reply|response)|never (?:answered|replied|arrived|came|heard)|nobody (?:answer|repl|call)\w*|went quiet|stopped replying", -0.6, False),
    (r"couldn't|could not|can't\b|cannot|unable|impossible|no way to", -0.5, False),
    (r"confus\w*|unclear|not clear|hard to|difficult|complicated|complex|clunk\w*|hidden|buried", -0.5, False),
    (r"missing|lacks?\b|lacking|weak|basic\b|limited|outdated|out of date|old pictures", -0.4, False),
    (r"(?:the|a|my) (?:gap|weak spot|sore spot|downside|problem|issue)\b|\bmess\b|\blie[sd]?\b|nothing changed|"
     r"\bsoured\b|let (?:me|us) down", -0.5, None),
    # things that failed without a word of feeling: "the toilet was out of order"
    (r"out of order|out of stock|sold out|ran out|not (?:available|in stock)|watered[- ]down|damaged|dented|"
     r"scratch(?:ed|es)|stained|torn\b|faded|leak(?:s|ed|ing|y)?\b|flimsy|wobbl\w*|cheaply made|fell apart|"
     r"dirty|filthy|sticky|smell(?:y|ed|s)\b|stale|soggy|burnt|overcooked|undercooked|bland|tasteless|"
     r"(?:was|were|came|arrived|served) (?:cold|lukewarm|dry|raw)\b|rude\w*|ignored|forg(?:ot|otten)\b|"
     r"mixed up|eventually\b", -0.55, False),
    (r"(?:nobody|no one|no-one) (?:\w+ )?(?:greet|help|came|come|answer|call|told|explain|check|serv|clean|show)\w*",
     -0.6, False),
    # effort and annoyance
    (r"had to|have to|spent (?:a |the |hours|days|whole)|\bchas\w+|again\b|kept\b|keeps\b|every time|by hand|manually", -0.35, None),
    (r"concern\w*|worr\w*|disappoint\w*|unhappy|upset|complain\w*|annoy\w*|frustrat\w*|pain\b|painful|nightmare|terrible|awful|horrible|furious|angry|embarrass\w*|stings?|hurt|sour\w*", -0.7, None),
    (r"too (?:many|much|long|short|expensive|complex|slow)|spammy|spam\b|pushy|overpriced|pricey|expensive|price hike|hike\b", -0.55, None),
    (r"surpris\w* (?:charge|bill|fee)s?|bait and switch|misled|trap\b|tricked|blindsided|no (?:warning|notice|explanation)", -0.7, None),
    (r"cancel\w*|switch\w* to|looking at (?:other|alternatives)|leav\w+ (?:us|them)|churn\w*|"
     r"(?:didn't|did not|won't|will not|not going to) renew|gave up|giving up|abandon\w*|never finished", -0.5, None),
    # success and delight
    (r"\bworks?\b(?! (?:fine|ok))|worked|\bfixed\b|reliable|accurate|on time|seamless\w*|smooth\w*", 0.5, True),
    (r"\bfast\b|\bquick\w*|instant\w*|in minutes|same (?:day|evening)|in seconds|right away|straight away", 0.5, True),
    (r"\beasy\b|easier|simple|simpler|intuitive|clean\b|clear\b|straightforward|no training|in a day", 0.5, True),
    (r"saves?\b|saved|saving|cut (?:our|my|down)|halved|pays? for itself|worth\b", 0.6, True),
    (r"love\w*|great|excellent|brilliant|amazing|fantastic|wonderful|perfect|best\b|awesome|game[- ]?changer|10/10", 0.8, None),
    (r"no complaints|can't complain|never had (?:a|any) problem|helped|helps\b|rely on|depend(?:ed)? on", 0.5, True),
    (r"helpful|patient|friendly|responsive|professional|impress\w*|happy|glad|thanks?\b|thank you|appreciat\w*|recommend\w*", 0.5, None),
    (r"\bno more\b|never have to|stopped (?:chasing|worrying)|finally\b|instead of", 0.5, None),
)
COMPILED = tuple((re.compile(rf"(?<![\w-])(?:{p})", re.I), w, f) for p, w, f in CUES)


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    return SentimentIntensityAnalyzer()


RELIEF = re.compile(r"\b(?:no more|no longer|never have to|stopped|without (?:any|the)?)\s*$", re.I)


def _flip(text: str, start: int, weight: float) -> float:
    """How a cue counts given the words before it: 'no more chasing' is relief, 'not slow'
    mild praise, 'not seamless' a complaint."""
    before = text[:start]
    if weight < 0 and RELIEF.search(" ".join(before.split()[-4:])):
        return -1.0
    if NEGATOR.search(" ".join(before.split()[-3:])):
        return -0.6 if weight > 0 else -0.4
    return 1.0


# A wish names what is missing ("Wish support was open on weekends", "it would be nice to have
# more options"): a gap, however warm its words.
WISH = re.compile(r"\b(?:i |we )?wish(?:ed)?\b|\bif only\b|\b(?:would|'d) (?:be )?(?:nice|great|good|love|like|"
                  r"prefer|appreciate)\w* (?:if|to (?:have|see|get)|it if|more|some|a |an )|\b(?:should|could) "
                  r"(?:have|offer|add|open|include|show|make|let|be)\b|\bplease (?:add|bring|make|offer)\b|"
                  r"\b(?:would|'d) (?:really |so )?help\b", re.I)  # "even morning or afternoon would help"
WISH_SENTIMENT = -0.3


# A score given when asked for one ("If you had to score us out of ten?" "For the sofa itself,
# a nine."): 0-10 read as an NPS answer is, passives (7-8) mild.
SCORE_QUESTION = re.compile(r"\bout of (?:ten|10)\b|\bhow (?:would|do) you (?:rate|score)\b|\bon a scale\b|"
                            r"\b(?:score|rate) (?:us|them|it|\w+) (?:out of|from|on)\b", re.I)  # not "the reason for your score"
NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_N = "(" + "|".join(NUMBERS) + r"|10|[0-9])"
# a number given as the score: "a nine", "an eight", "nine out of ten", "9/10", or alone ("Ten.")
SCORE = re.compile(rf"\b(?:an? |said |give (?:it |them |you )?(?:an? )?){_N}\b|\b{_N}(?: out of (?:10|ten)|/10)\b|"
                   rf"^\W*{_N}\W*$", re.I)
PASSIVE = 7  # the score that reads as neither praise nor complaint (NPS passives are 7 and 8)


def score_given(reply: str, question: str) -> float | None:
    """The sentiment of a 0-10 score in reply to a question asking for one."""
    if not SCORE_QUESTION.search(question) or not (m := SCORE.search(reply)):
        return None
    word = next(g for g in m.groups() if g).lower()
    n = NUMBERS.index(word) if word in NUMBERS else int(word)
    return round(max(-1.0, min(1.0, (n - PASSIVE) / 3)), 3)


def answer(reply: str, question: str) -> float | None:
    """The sentiment of a bare yes or no in reply to a question, from the question's own words;
    None when the reply is neither or the question judges nothing."""
    sign = 1 if AFFIRM.match(reply) else -1 if DENY.match(reply) else 0
    value, _ = _judge(question) if sign else (0.0, None)
    return round(sign * value, 3) if abs(value) >= NEUTRAL else None


# A problem told with its fix ("a wobbly leg 9 months in, the technician came within a week and
# fixed it") is a judgement of whoever fixed it: the fix is the last word.
RESOLVED = re.compile(r"\b(?:fixed|sorted|resolved|repaired|replaced|refunded)\b(?! (?:yet|still))", re.I)
RESOLVED_SENTIMENT = 0.4
# ... but not a fix wished for, made a condition or fought for: "unless it's fixed", "had to
# escalate to get it sorted"
UNFIXED = re.compile(r"\b(?:unless|if|until|once|when|to|get|be|been|being|needs?|want\w*|wish\w*|hope\w*|"
                     r"should|would|could|must)\b(?:\s+[\w']+)?\s*$", re.I)


def judge(text: str) -> tuple[float, bool | None]:
    """(sentiment in [-1, 1], did the touchpoint do its job: True, False or unknown)."""
    score, did_job = _judge(text)
    fix = RESOLVED.search(text)
    if fix and score < 0 and _judge(text[:fix.start()])[0] < 0:
        before = " ".join(text[:fix.start()].split()[-3:])
        if not NEGATOR.search(before) and not UNFIXED.search(before):
            return max(score, RESOLVED_SENTIMENT), True
    if WISH.search(text):
        return min(score, WISH_SENTIMENT), did_job
    return score, did_job


def _judge(text: str) -> tuple[float, bool | None]:
    cue_total, function = 0.0, 0.0
    for pattern, weight, functional in COMPILED:
        for m in pattern.finditer(text):
            flip = _flip(text, m.start(), weight)
            cue_total += weight * flip
            if functional is not None:
                function += (1 if functional else -1) * flip
    vader = _vader().polarity_scores(text)["compound"]
    if cue_total:
        score = 0.65 * max(-1.0, min(1.0, cue_total)) + 0.35 * vader
    else:
        score = vader * 0.8
    did_job = None if function == 0 else function > 0
    return round(max(-1.0, min(1.0, score)), 3), did_job


def polarity(sentiment: float, threshold: float = NEUTRAL) -> str:
    return "positive" if sentiment >= threshold else "negative" if sentiment <= -threshold else "neutral"
