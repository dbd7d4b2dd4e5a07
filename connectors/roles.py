"""Who speaks for the customer and who for the company."""

from __future__ import annotations

import re

from valuestory.records import Role, Turn

COMPANY_WORDS = {
    "interviewer", "moderator", "researcher", "host", "facilitator", "agent", "support",
    "support agent", "admin", "staff", "rep", "sales", "sales rep", "account manager", "am",
    "csm", "ae", "sdr", "operator", "bot", "teammate", "q", "company", "vendor", "consultant",
    "success manager", "customer success", "onboarding specialist", "specialist", "advisor",
}
CUSTOMER_WORDS = {
    "customer", "participant", "respondent", "interviewee", "user", "client", "guest",
    "end user", "end-user", "requester", "contact", "lead", "a", "buyer", "prospect", "member",
}
GENERIC = re.compile(r"^(speaker|spk|person|voice|unknown|p|participant|respondent|customer|"
                     r"interviewer|agent|user|guest)[\s_-]*\d*$", re.I)


PERSON_IN_ROLE = re.compile(r"^(?P<role>[^()]+?)\s*[(\[](?P<name>[^()\[\]]+)[)\]]$")


def split_label(label: str) -> tuple[str, str | None]:
    """(role part, person) of a label that names both: 'Agent (Imogen)' -> ('Agent', 'Imogen'),
    'Tom (Onboarding)' -> ('Onboarding', 'Tom'); a label without brackets -> (label, None)."""
    m = PERSON_IN_ROLE.match(label.strip())
    if not m:
        return label, None
    outer, inner = m.group("role").strip(), m.group("name").strip()
    if _role_word(outer):
        return outer, None if _role_word(inner) else inner
    return inner, outer


def _role_word(label: str) -> bool:
    key = _bare_key(label)
    return key in COMPANY_WORDS or key in CUSTOMER_WORDS


def _key(label: str) -> str:
    return _bare_key(split_label(label)[0])


def _bare_key(label: str) -> str:
    return re.sub(r"[\s_-]*\d+$", "", label.strip().lower()).replace("_", " ").replace("-", " ").strip()


def role_of_label(label: str) -> Role:
    key = _key(label)
    if key in COMPANY_WORDS:
        return "company"
    if key in CUSTOMER_WORDS:
        return "customer"
    return "unknown"


def is_generic_label(label: str) -> bool:
    """A role or numbered speaker rather than a person's name: nothing to pseudonymize."""
    return bool(GENERIC.match(label.strip())) or role_of_label(label) != "unknown"


def assign_roles(turns: list[Turn], company: set[str], customer: set[str]) -> list[Turn]:
    """Roles from, in order: names the user or the file declared, the label itself, and
    last who asks the questions (interviewers ask, customers tell)."""
    company = {c.lower() for c in company}
    customer = {c.lower() for c in customer}
    roles: dict[str, Role] = {}
    for t in turns:
        name = t.speaker.lower()
        if name in company:
            roles[t.speaker] = "company"
        elif name in customer:
            roles[t.speaker] = "customer"
        elif t.role != "unknown":
            roles[t.speaker] = t.role
        else:
            roles.setdefault(t.speaker, role_of_label(t.speaker))
    unknown = [s for s, r in roles.items() if r == "unknown"]
    if unknown:
        known_company = any(r == "company" for r in roles.values())
        known_customer = any(r == "customer" for r in roles.values())
        if known_company or len(roles) == 1:
            for s in unknown:
                roles[s] = "customer"
        else:
            asks = {s: _question_share(turns, s) for s in unknown}
            asker = max(asks, key=asks.get)
            for s in unknown:
                if s == asker and asks[s] >= 0.3 and (len(unknown) > 1 or known_customer):
                    roles[s] = "company"
                elif s != asker or len(unknown) > 1:
                    roles[s] = "customer"
    return [t.model_copy(update={"role": roles[t.speaker]}) for t in turns]


def _question_share(turns: list[Turn], speaker: str) -> float:
    own = [t.text for t in turns if t.speaker == speaker]
    return sum(t.rstrip().endswith("?") for t in own) / len(own) if own else 0.0
