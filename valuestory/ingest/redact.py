"""Redaction: personal data out before anything is stored, embedded or sent to a model.

Emails, phone numbers, payment card numbers and secrets in URLs are replaced by a tag;
participants' names (from speaker labels and respondent fields) become stable pseudonyms,
wherever they appear in the record. Pseudonyms come from a keyed hash, so the same person
gets the same one in every run and every source, and nobody can reverse it without the salt.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from dataclasses import dataclass, field

import phonenumbers

from valuestory.config import PrivacySection
from valuestory.connectors.roles import is_generic_label
from valuestory.records import Record, assemble_turns

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
DIGIT = re.compile(r"\d")
PHONE_HINT = re.compile(r"\+?\(?\d[\d ().-]{6,}\d")
# Phone-shaped numbers libphonenumber rejects as unassigned (e.g. 555 area codes) are still
# someone's number as far as redaction goes.
PHONE_SHAPE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?!\w)"
                         r"|(?<!\w)\+\d{1,3}(?:[ .-]?\d){7,12}(?!\w)"
                         r"|(?<![\w.,-])0\d{3,4}[ -]?\d{3}[ -]?\d{3,4}(?![\w-])")
URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"']+", re.I)
URL_USERINFO = re.compile(r"(?<=://)[^/\s@:]+:[^/\s@]+(?=@)")
URL_SECRET_PARAM = re.compile(
    r"([?&#;](?:[\w.-]*?(?:token|key|secret|pass(?:word|wd)?|pwd|auth|sig(?:nature)?|session|"
    r"sid|code|credential|otp)[\w.-]*)=)[^&#\s]+", re.I)
ROLE_PREFIX = {"customer": "Customer", "company": "Staff", "unknown": "Speaker"}  # see records.PLACEHOLDER


def luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass
class Redactor:
    settings: PrivacySection
    counts: Counter = field(default_factory=Counter)

    def _tag(self, kind: str) -> str:
        self.counts[kind] += 1
        return f"[{kind}]"

    def pseudonym(self, name: str, prefix: str) -> str:
        key = " ".join(name.lower().split()).encode()
        digest = hmac.new(self.settings.salt.encode(), key, hashlib.sha256).hexdigest()
        return f"{prefix}-{digest[:6].upper()}"

    # --- text ---------------------------------------------------------------------------
    def text(self, text: str, names: dict[str, str] | None = None) -> str:
        s = self.settings
        if not s.redact or not text:
            return text
        if s.url_secrets and "://" in text:
            text = URL.sub(self._url, text)
        if s.emails and "@" in text:
            text = EMAIL.sub(lambda m: self._tag("email"), text)
        if (s.cards or s.phones) and DIGIT.search(text):
            if s.cards:
                text = CARD.sub(self._card, text)
            if s.phones:
                text = self._phones(text)
        if names and s.speaker_names:
            text = self._names(text, names)
        return text

    def _url(self, m: re.Match) -> str:
        url = m.group(0)
        url, n1 = URL_USERINFO.subn("[secret]", url)
        url, n2 = URL_SECRET_PARAM.subn(r"\1[secret]", url)
        self.counts["url secret"] += n1 + n2
        return url

    def _card(self, m: re.Match) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return self._tag("card") if 13 <= len(digits) <= 19 and luhn_ok(digits) else m.group(0)

    def _phones(self, text: str) -> str:
        # The usual shapes first, by pattern; libphonenumber (thorough, but slow) then reads
        # only the short windows around the remaining digit runs that could be a number.
        text = PHONE_SHAPE.sub(lambda m: self._tag("phone"), text)
        spans: set[tuple[int, int]] = set()
        for hint in PHONE_HINT.finditer(text):
            if sum(ch.isdigit() for ch in hint.group()) < 7:
                continue
            start, end = max(0, hint.start() - 3), min(len(text), hint.end() + 3)
            window = text[start:end]
            for region in self.settings.phone_regions or ["US"]:
                found = {(start + m.start, start + m.end) for m in phonenumbers.PhoneNumberMatcher(window, region)}
                spans |= found
                if found:
                    break
        for start, end in sorted(spans, reverse=True):
            if not any(s <= start and end <= e and (s, e) != (start, end) for s, e in spans):
                text = text[:start] + self._tag("phone") + text[end:]
        return text

    def _names(self, text: str, names: dict[str, str]) -> str:
        for name, alias in names.items():
            if name in text:
                text, n = re.subn(rf"(?<![\w-]){re.escape(name)}(?![\w-])", alias, text)
                self.counts["name"] += n
        return text

    # --- records ------------------------------------------------------------------------
    def name_map(self, record: Record) -> dict[str, str]:
        """Each participant's full name, and its first and last names, to their pseudonym;
        longest first so that 'Marco Diaz' is replaced before 'Marco'."""
        people: dict[str, str] = {}
        for turn in record.turns:
            if turn.speaker not in people and not is_generic_label(turn.speaker):
                people[turn.speaker] = self.pseudonym(turn.speaker, ROLE_PREFIX[turn.role])
        if record.respondent and record.respondent not in people and _name_like(record.respondent):
            prefix = "Customer" if record.kind == "interview" else "Respondent"
            people[record.respondent] = self.pseudonym(record.respondent, prefix)
        names: dict[str, str] = {}
        for person, alias in people.items():
            names[person] = alias
            if "@" not in person:
                for part in person.split():
                    if len(part) >= 3 and part[0].isupper() and part not in names:
                        names[part] = alias
        return dict(sorted(names.items(), key=lambda kv: -len(kv[0])))

    def record(self, record: Record) -> Record:
        if not self.settings.redact:
            return record
        names = self.name_map(record) if self.settings.speaker_names else {}
        update: dict = {
            "respondent": names.get(record.respondent, record.respondent)
            if record.respondent else None,
            "fields": {k: self.text(v, names) for k, v in record.fields.items()},
        }
        if record.turns:
            first = record.turns[0]
            preamble = record.text[: max(0, first.start - len(first.speaker) - 2)].rstrip("\n")
            turns = [t.model_copy(update={"speaker": names.get(t.speaker, t.speaker),
                                          "text": self.text(t.text, names)}) for t in record.turns]
            update["text"], update["turns"] = assemble_turns(turns, self.text(preamble, names))
        else:
            update["text"] = self.text(record.text, names)
        return record.model_copy(update=update)


def _name_like(value: str) -> bool:
    """Emails and names are personal; an opaque id such as R_1a2b or 10422 is not."""
    return "@" in value or bool(re.search(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}", value))
