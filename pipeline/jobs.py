"""What a job-to-be-done is, in words: verb + object + circumstance, with no solution in it
and none of the empty verbs (maintain, support, help, manage); and how customers say one
("I needed to …", "so we can …", "I can't …"). Shared by every engine that drafts jobs."""

from __future__ import annotations

import re

# Goals, not chores: "I had to re-type everything" is friction, not a job.
JOB = re.compile(r"(?:\b(?:i|we)(?: really| just| only| still)? (?:needed|need|wanted|want|were trying|was trying|tried|"
                 r"(?:am|are|'m|'re) trying|would like|'d like|hoped|hope)(?: a way| something| someone)? to|"
                 r"\bso (?:that )?(?:i|we) (?:can|could)|\bthe (?:whole )?(?:point|reason) (?:is|was) to|"
                 r"\ball (?:i|we) (?:want|wanted|need|needed) (?:is|was) to) ([a-z][^.;!?]{6,90})", re.I)
# What customers cannot do names what they are trying to get done: "I can't see which jobs lose money".
CANNOT = re.compile(r"\b(?:i|we) (?:still )?(?:can't|cannot|couldn't|could not|have no way to|had no way to|"
                    r"am unable to|are unable to) ((?!believe|wait|stand|imagine|remember|say|recommend|complain|"
                    r"keep|tell you|afford to|even|get (?:in|into|through)|log|sign|find (?:it|the)|be bothered|"
                    r"(?:figure|work) out how|understand how)"
                    r"[a-z][^.;!?]{6,90})", re.I)
PRODUCT = re.compile(r"\b(?:account|password|login|page|plan|menu|screen|settings?|version|update)s?\b", re.I)
SOLUTION = re.compile(r"\b(?:app|software|tool|platform|system|feature|button|integration|dashboard|website|"
                      r"crm|spreadsheet|plugin|subscription)s?\b", re.I)
FORBIDDEN = re.compile(r"^(?:maintain|support|help|manage|use|try|buy|get (?:it|this|that)|look|find (?:it|out)|"
                       r"say|be|do it)\b", re.I)
VAGUE = re.compile(r"\b(?:maintain|support|help|manag)\w*", re.I)
def job_statement(text: str) -> str | None:
    """'I needed a way to get paid on the spot, honestly' -> 'Get paid on the spot'; None
    when it names a solution or is too vague to be a job."""
    return _job(JOB.search(text))


def cannot_job(text: str) -> str | None:
    """'I can't see revenue per crew without exporting' -> 'See revenue per crew'; None when
    what they cannot do is the product itself (log in, find the page)."""
    job = _job(CANNOT.search(text))
    return None if job is None or PRODUCT.search(job) else job


def _job(m: re.Match | None) -> str | None:
    if not m:
        return None
    job = re.split(r",|\bbecause\b|\bbut\b|\band then\b|\bso\b|\bwithout\b|\bunless\b", m.group(1))[0].strip()
    if not is_valid_job(job) or re.search(r"\byour?\b", job, re.I) or \
            re.search(r"\b(?:this|that|it|them|anymore|again|any more)$", job, re.I):
        return None
    return job[0].upper() + job[1:]


def job_problems(job: str) -> list[str]:
    """Why a job statement is not a job: a job is verb + object + circumstance, with no
    solution in it and none of the empty verbs maintain, support, help, manage."""
    problems = []
    if not 2 <= len(job.split()) <= 12:
        problems.append("is not 2-12 words of verb + object + circumstance")
    if m := SOLUTION.search(job):
        problems.append(f"names a solution ({m.group(0)!r}): say what the customer wants done, not with what")
    if m := VAGUE.search(job):
        problems.append(f"uses {m.group(0)!r}: name what the customer actually does")
    elif FORBIDDEN.match(job):
        problems.append("starts with a vague verb: name what the customer actually does")
    return problems


def is_valid_job(job: str) -> bool:
    return bool(job.strip()) and not job_problems(job)
