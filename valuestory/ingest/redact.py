"""Redaction: personal data out before anything is stored, embedded or sent to a model.

Emails, phone numbers, payment card numbers, IBANs, national ids (US Social Security, UK
National Insurance), secrets (API keys and tokens, `password: ...`, secrets in URLs), IP
addresses and dates of birth are replaced by a tag;
participants' names (from speaker labels, respondent fields and fields that name a person,
such as a CRM's opportunity owner) become stable pseudonyms, wherever they appear in the
record; so do names the text itself introduces ("my friend Kasia", "our account manager,
Priya", "Mr Vance", "a guy named Marcus", "Dana from support"). A name learned so is then
pseudonymised in every later record and file (its keyed digest is kept in the ledger, never
the name). Pseudonyms come from a keyed hash, so the same person
gets the same one in every run and every source, and nobody can reverse it without the salt.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections import Counter
from dataclasses import dataclass, field

import phonenumbers

from valuestory.config import PrivacySection
from valuestory.connectors.roles import is_generic_label, split_label
from valuestory.records import Record, assemble_turns

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")  # \w: josé.garcía@exämple.de too
CARD = re.compile(r"(?<![\d.-])(?:\d[ .-]?){12,18}\d(?![\d-])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b|\b[a-z]{2}\d{2}[a-z0-9]{11,30}\b")  # checked by mod-97
SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
ITIN = re.compile(r"(?<![\d-])9\d{2}-(?:5\d|6[0-5]|7\d|8[0-8]|9[0-24-9])-\d{4}(?![\d-])")  # US taxpayer number
ID_AFTER_CUE = re.compile(r"(?i)\b((?:ssn|social security(?: number)?|itin|tax id)\s*(?:number|no\.?|#)?\s*(?:is\s+)?[:#]?\s*)"
                          r"(\d{3}[ -]?\d{2}[ -]?\d{4})(?!\d)")
MAC = re.compile(r"(?<![\w:-])[0-9A-Fa-f]{2}(?P<sep>[:-])(?:[0-9A-Fa-f]{2}(?P=sep)){4}[0-9A-Fa-f]{2}(?![\w:-])")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:.*?-----END [A-Z ]*PRIVATE KEY-----|[\sA-Za-z0-9+/=]*)", re.S)
NI_NUMBER = re.compile(r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
SECRET = re.compile(r"\b(?:sk-(?:proj-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,}|"
                    r"xox[abprs]-[A-Za-z0-9-]{10,}|eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}|"
                    r"[sr]k_(?:live|test)_[A-Za-z0-9]{10,}|AIza[\w-]{30,}|glpat-[\w-]{20,}|npm_[A-Za-z0-9]{30,})")
SECRET_VALUE = re.compile(r"(?i)(?<![a-z])((?:\w+_)?(?:password|passwd|pwd|passcode|pin|pw|api[ _-]?key|secret|token|"
                          r"access[ _-]?key)(?:_\w+)?\s*(?:is\s+)?[:=]\s*)(?!\[)[^\s,;&]+")
# without a colon, only a value with a digit in it ("password hunter2", "my pin is 4471";
# not "password reset")
SECRET_SPOKEN = re.compile(r"(?i)\b((?:password|passcode|pin)\s+(?:is\s+)?)(?!\[)(?=[^\s,;&]*\d)[^\s,;&]{4,}")
IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)")
IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")  # checked by ipaddress
BIRTH_DATE = re.compile(r"(?i)\b((?:date of birth|d\.?o\.?b\.?|birth ?date|birthday|born(?: on)?)\s*[:,-]?\s*)"
                        r"(\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}(?:st|nd|rd|th)? [A-Za-z]{3,9},? \d{4}|"
                        r"[A-Za-z]{3,9} \d{1,2}(?:st|nd|rd|th)?,? \d{4})")
DIGIT = re.compile(r"\d")
PHONE_HINT = re.compile(r"\+?\(?\d[\d ().-]{6,}\d")
# Phone-shaped numbers libphonenumber rejects as unassigned (e.g. 555 area codes) are still
# someone's number as far as redaction goes.
PHONE_SHAPE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?!\w)"
                         r"|(?<!\w)\+\d{1,3}(?:[ .-]?\d){7,12}(?!\w)"
                         r"|(?<![\w.,-])0\d{3,4}[ -]?\d{3}[ -]?\d{3,4}(?![\w-])"
                         r"|(?<![\w.,-])00\d{2,3}(?:[ .-]?\d){8,11}(?![\w-])"  # 0044 7700 900125
                         r"|(?<![\w.,-])0\d{4,5} \d{5,6}(?![\w-])")  # 098765 43212
# A run of digits that the words before it call a phone number, whatever its shape or region
# ("Reach me on 9876543213", "my mobile is 98765 432 13", "tel: 987.654.3213").
PHONE_AFTER_CUE = re.compile(
    r"(?i)\b((?:(?:reach|call|ring|text|phone|contact|whatsapp|message)\s+(?:me|us|him|her|them)\s+(?:on|at)"
    r"|(?:my|our|his|her|their)\s+(?:phone\s+|mobile\s+|cell\s+|contact\s+)?(?:number|phone|mobile|cell|no\.?)(?:\s+is)?"
    r"|(?:phone|mobile|cell|tel|telephone|whatsapp)(?:\s*(?:no\.?|number|#))?\s*[:#])\s*)"
    r"(\+?\(?\d(?:[ .()-]?\d){6,14})(?![\d-])")
URL = re.compile(r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"']+", re.I)
URL_HOOK_PATH = re.compile(r"(/(?:services|hooks?|webhooks?)/)[^\s?#]+", re.I)  # the path is the key
URL_USERINFO = re.compile(r"(?<=://)[^/\s@:]+:[^/\s@]+(?=@)")
URL_SECRET_PARAM = re.compile(
    r"([?&#;](?:[\w.-]*?(?:token|key|secret|pass(?:word|wd)?|pwd|auth|sig(?:nature)?|session|"
    r"sid|code|credential|otp)[\w.-]*)=)[^&#\s]+", re.I)
ROLE_PREFIX = {"customer": "Customer", "company": "Staff", "unknown": "Speaker"}  # see records.PLACEHOLDER

# Names the text introduces: a capitalised word (and a capitalised word after it, a surname)
# after words that say a person comes next. Roles and relations, not any one trade's words.
_NAME = r"(?P<name>[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?(?:[ ][A-Z][a-z]+(?:-[A-Z][a-z]+)?)?)(?![\w-])"
_PERSON_WORDS = ("friend|colleague|co-?worker|boss|manager|husband|wife|partner|son|daughter|mum|mom|dad|father|"
                 "mother|brother|sister|cousin|uncle|aunt|neighbou?r|girlfriend|boyfriend|fianc[eé]e?|rep|"
                 "representative|agent|advis[eo]r|consultant|technician|tech|engineer|driver|installer|courier|"
                 "specialist|coordinator|assistant|accountant|bookkeeper|contact|waiter|waitress|bartender|chef")
NAME_CUES = (
    # "my friend Kasia", "our account manager, Priya", "the support agent Tom Reyes"
    re.compile(rf"(?<![\w-])(?i:(?:my|our|your|the|his|her|their|an?)\s+(?:[a-z-]+\s+)?(?:{_PERSON_WORDS}))"
               rf"\s*,?\s+{_NAME}"),
    re.compile(rf"(?<![\w-])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+{_NAME}"),
    re.compile(rf"(?<![\w-])(?i:named|(?:guy|man|woman|lady|girl|boy|person|someone|somebody|fellow|chap|bloke)"
               rf"\s+called)\s+{_NAME}"),
    re.compile(rf"(?m)^\s*(?i:hi|hello|hey|dear)\s+{_NAME}\s*[,!\n]"),  # a message's greeting
)
# weaker: "Dana from support"; taken only for a word the text never writes in lower case
NAME_BEFORE_TEAM = re.compile(rf"(?<![\w-]){_NAME}\s+(?i:from|in|at)\s+(?i:(?:the\s+|your\s+)?(?:support|sales|"
                              r"billing|accounts|customer (?:service|success|care)|the help ?desk|service desk)\b)")
# capitalised words the cues can meet that are not names
NOT_NAMES = frozenset("""
I The A An This That These Those It He She They We You Me Him Her Them Us Who What Which When Where Why How
And But Or So Then Also Just Not No Yes Ok Okay Oh Well Team All There Everyone Everybody Someone Somebody Nobody
Anyone Guys Folks Sir Madam Support Sales Service Services Customer Customers Billing Accounts Account Manager
Admin Help Desk Team Staff Agent Rep Thanks Thank Please Hello Hi Hey Dear Monday Tuesday Wednesday Thursday
Friday Saturday Sunday January February March April May June July August September October November December
In On At For With From To Of By After Before During Because If Since While Until As Over Under About Now Today
Yesterday Tomorrow Still Even Never Always Again Here Later Soon Maybe
Dad Mum Mom Mother Father Mam Mama Papa Grandma Grandpa Gran Nan Nana Granny Grandad Auntie Uncle Sis Bro
""".split())
# a word written capitalised, as a name is; a name learned is looked for among these
CAPITALISED = re.compile(r"(?<![\w-])[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?(?![\w-])")
LOWER_WORD = re.compile(r"(?<![\w-])[a-z]+(?:['-][a-z]+)*(?![\w-])")
# record fields that hold a person: a CRM's opportunity owner, a ticket's assignee
PERSON_FIELDS = frozenset("owner opportunity_owner account_owner assignee assigned_to agent rep sales_rep author "
                          "submitter requester interviewer moderator contact contact_name customer_name name".split())


def luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


LABEL_DIGEST = 8  # hex digits that keep two redacted ids apart


@dataclass
class Redactor:
    settings: PrivacySection
    counts: Counter = field(default_factory=Counter)
    # names learned from earlier records and files, by keyed digest, to their pseudonyms
    known: dict[str, str] = field(default_factory=dict)
    # words the files read so far write in lower case: never taken for a name outside a cue
    lower_words: set[str] = field(default_factory=set)
    _digests: dict[str, str] = field(default_factory=dict, repr=False)

    def _tag(self, kind: str) -> str:
        self.counts[kind] += 1
        return f"[{kind}]"

    def digest(self, value: str) -> str:
        """A keyed SHA-256 of a value: stable for one salt, not reversible without it."""
        return hmac.new(self.settings.salt.encode(), value.encode(), hashlib.sha256).hexdigest()

    def pseudonym(self, name: str, prefix: str) -> str:
        return f"{prefix}-{self.digest(' '.join(name.lower().split()))[:6].upper()}"

    # --- text ---------------------------------------------------------------------------
    def text(self, text: str, names: dict[str, str] | None = None, mentioned: bool = True) -> str:
        """Personal data in a text replaced; `mentioned=False` leaves out the names learned from
        other records (an account or segment is a key that joins records, and must stay one)."""
        s = self.settings
        if not s.redact or not text:
            return text
        if s.url_secrets and ("://" in text or "www." in text.lower()):
            text = URL.sub(self._url, text)
        if s.secrets:
            text = self._secrets(text)
        if s.emails and "@" in text:
            text = EMAIL.sub(lambda m: self._tag("email"), text)
        if DIGIT.search(text):
            text = self._numbers(text)
        if s.ip_addresses and text.count(":") + text.count("-") >= 5:
            text = MAC.sub(lambda m: self._tag("mac address"), text)
        if s.ip_addresses and ("::" in text or text.count(":") >= 3):
            text = IPV6.sub(self._ipv6, text)
        if names and s.speaker_names:
            text = self._names(text, names)
        if s.mentioned_names and mentioned:
            text = self._mentioned(text)
        return text

    def _mentioned(self, text: str) -> str:
        """Names the text introduces, then every name learned so far."""
        for cue in NAME_CUES:
            text = cue.sub(lambda m: self._person(m, strong=True), text)
        text = NAME_BEFORE_TEAM.sub(lambda m: self._person(m, strong=False), text)
        if self.known:
            text = CAPITALISED.sub(self._learned, text)
        return text

    def _person(self, m: re.Match, strong: bool) -> str:
        """A name a cue introduced, pseudonymised and learned; a weak cue's only when the text
        never writes it in lower case."""
        text, words = m.string, m.group("name").split(" ")
        while words and words[-1] in NOT_NAMES:
            words.pop()  # "our rep Tom The" ends at Tom
        if not words or words[0] in NOT_NAMES or (not strong and self.written_lower(words, text)):
            return m.group(0)
        name = " ".join(words)
        alias = self.pseudonym(name, "Person")
        if not self.written_lower(words, text):
            self.learn(words, alias)
        self.counts["name"] += 1
        start, end = m.start("name") - m.start(), m.start("name") - m.start() + len(name)
        return m.group(0)[:start] + alias + m.group(0)[end:]

    def _key(self, word: str) -> str:
        """A name's word as the learned names hold it: its keyed digest (one per word, kept)."""
        key = self._digests.get(word)
        if key is None:
            key = self._digests[word] = self.digest("name:" + word)
        return key

    def _learned(self, m: re.Match) -> str:
        word = m.group(0)
        alias = self.known.get(self._key(word))
        if alias is None or word.lower() in self.lower_words:
            return word
        self.counts["name"] += 1
        return alias

    def read_words(self, records: list[Record]) -> None:
        """Note the words a file's records write in lower case, before any is redacted."""
        for record in records:
            self.lower_words.update(LOWER_WORD.findall(record.text))

    def written_lower(self, words: list[str], text: str) -> bool:
        """Whether the files read (or this text) write one of these words in lower case: a
        common word ('Will', 'Grace'), pseudonymised where a cue introduces it, not everywhere."""
        return any(w.lower() in self.lower_words or re.search(rf"(?<![\w-]){re.escape(w.lower())}(?![\w-])", text)
                   for w in words)

    def learn(self, words: list[str], alias: str) -> None:
        """Pseudonymise these words (a name's parts) in every record from now on."""
        for word in words:
            if len(word) >= 3 and word not in NOT_NAMES:
                self.known.setdefault(self._key(word), alias)

    def _secrets(self, text: str) -> str:
        if "-----BEGIN" in text:
            text = PRIVATE_KEY.sub(lambda m: self._tag("secret"), text)
        text = SECRET.sub(lambda m: self._tag("secret"), text)
        text = SECRET_VALUE.sub(lambda m: m.group(1) + self._tag("secret"), text)
        return SECRET_SPOKEN.sub(lambda m: m.group(1) + self._tag("secret"), text)

    def _numbers(self, text: str) -> str:
        """Everything written with digits, most specific shapes first (an IBAN before the card
        number its digits could be)."""
        s = self.settings
        if s.dates_of_birth:
            text = BIRTH_DATE.sub(lambda m: m.group(1) + self._tag("date of birth"), text)
        if s.ibans:
            text = IBAN.sub(self._iban, text)
        if s.national_ids:
            text = ID_AFTER_CUE.sub(lambda m: m.group(1) + self._tag("national id"), text)
            for pattern in (SSN, ITIN, NI_NUMBER):
                text = pattern.sub(lambda m: self._tag("national id"), text)
        if s.ip_addresses:
            text = IPV4.sub(lambda m: self._tag("ip address"), text)
        if s.cards:
            text = CARD.sub(self._card, text)
        if s.phones:
            text = self._phones(text)
        return text

    def _url(self, m: re.Match) -> str:
        url = m.group(0)
        url, n1 = URL_USERINFO.subn("[secret]", url)
        url, n2 = URL_SECRET_PARAM.subn(r"\1[secret]", url)
        url, n3 = URL_HOOK_PATH.subn(r"\1[secret]", url)
        self.counts["url secret"] += n1 + n2 + n3
        return url

    def _iban(self, m: re.Match) -> str:
        """An IBAN when its mod-97 check holds (ISO 13616), not any code of that shape."""
        code = m.group(0).replace(" ", "").upper()
        moved = code[4:] + code[:4]
        number = "".join(str(int(ch, 36)) for ch in moved)
        return self._tag("iban") if 15 <= len(code) <= 34 and int(number) % 97 == 1 else m.group(0)

    def _ipv6(self, m: re.Match) -> str:
        if sum(ch.isalnum() for ch in m.group(0)) < 2:
            return m.group(0)  # "::" in prose
        try:
            ipaddress.IPv6Address(m.group(0))
        except ValueError:
            return m.group(0)  # a time such as 12:30:45, not an address
        return self._tag("ip address")

    def _card(self, m: re.Match) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return self._tag("card") if 13 <= len(digits) <= 19 and luhn_ok(digits) else m.group(0)

    def _phones(self, text: str) -> str:
        # The usual shapes first, by pattern; libphonenumber (thorough, but slow) then reads
        # only the short windows around the remaining digit runs that could be a number.
        text = PHONE_AFTER_CUE.sub(lambda m: m.group(1) + self._tag("phone"), text)
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
            # 'Agent (Imogen)' names a person inside a role label: the person is pseudonymised
            person = split_label(turn.speaker)[1] or turn.speaker
            if person not in people and not is_generic_label(person):
                people[person] = self.pseudonym(person, ROLE_PREFIX[turn.role])
        if (record.respondent and record.respondent not in people and _name_like(record.respondent)
                and not is_generic_label(record.respondent)):
            prefix = "Customer" if record.kind == "interview" else "Respondent"
            people[record.respondent] = self.pseudonym(record.respondent, prefix)
        if self.settings.mentioned_names:
            for person in _person_fields(record):
                people.setdefault(person, self.pseudonym(person, "Staff"))
        names: dict[str, str] = {}
        for person, alias in people.items():
            names[person] = alias
            if "@" not in person:
                for part in person.split():
                    if len(part) >= 3 and part[0].isupper() and part not in names:
                        names[part] = alias
        return dict(sorted(names.items(), key=lambda kv: -len(kv[0])))

    def label(self, value: str, names: dict[str, str] | None = None, personal: bool = False) -> str:
        """An identifier shown to readers (a record id, a file name), redacted like text; when
        redaction changed it, a keyed digest of the original keeps two such labels apart
        (`nps:[email]~3F2A1B`). A `personal` label names one participant's file (an
        interview's): words in it other than dates, numbers and research words are taken for
        the participant's name even when nobody says it, and the label becomes a pseudonym."""
        redacted = self.text(value, names)
        if self.settings.url_secrets:  # `reset?token=...` in a file name, without its URL
            redacted = URL_SECRET_PARAM.sub(r"\1[secret]", redacted)
        if redacted == value and names and self.settings.speaker_names:
            # File names write names in lower case, joined by _ ("bev_thornton_2026-09-18"); the
            # words beside a first name are likely a surname, so the whole label is the alias.
            spaced = value.replace("_", " ")
            found = next((alias for name, alias in names.items()
                          if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", spaced, re.I)), None)
            if found:
                self.counts["name"] += 1
                kind, sep, _ = value.rpartition(":")
                redacted = f"{kind}{sep}{found}"
        if redacted == value and "_" in value:
            spaced = value.replace("_", " ")
            once = self.text(spaced, names)
            redacted = value if once == spaced else once
        if redacted == value and personal and self.settings.file_names and may_name_someone(value):
            self.counts["name"] += 1
            kind, sep, _ = value.rpartition(":")
            return kind + sep + self.pseudonym(value, "Participant")  # its own digest keeps two apart
        return redacted if redacted == value else f"{redacted}~{self.digest(value)[:LABEL_DIGEST].upper()}"

    def names_of(self, records: list[Record]) -> dict[str, str]:
        """The participants' names of a file's records, to their pseudonyms."""
        if not self.settings.speaker_names:
            return {}
        names: dict[str, str] = {}
        for record in records:
            names.update(self.name_map(record))
        return dict(sorted(names.items(), key=lambda kv: -len(kv[0])))

    def path(self, path: str, names: dict[str, str] | None = None, personal: bool = False) -> str:
        """A file's path as stored and shown: each folder and file name redacted, the
        extension kept (`exports/nps-[email]~3F2A1B.csv`); the name of a `personal` file (one
        participant's) as its record's id is."""
        if not self.settings.redact:
            return path
        parts = path.split("/")
        stem, dot, suffix = parts[-1].rpartition(".")
        stem, suffix = (stem, dot + suffix) if dot and stem else (parts[-1], "")
        return "/".join([*(self.label(p, names) for p in parts[:-1]), self.label(stem, names, personal) + suffix])

    def record(self, record: Record) -> Record:
        if not self.settings.redact:
            return record
        names = self.name_map(record) if self.settings.speaker_names else {}
        if self.settings.mentioned_names:
            for name, alias in names.items():
                if "@" not in name and not self.written_lower(name.split(), record.text):
                    self.learn([w for w in name.split() if CAPITALISED.fullmatch(w)], alias)
        kind, sep, own_id = record.record_id.partition(":")
        update: dict = {
            # an id may be an email or a file name with a participant's name in it
            "record_id": kind + sep + self.label(own_id, names, personal=record.kind == "interview") if sep
            else self.label(record.record_id, names),
            # structured fields are text like any other: a respondent, account or segment that is
            # an email, a phone number or a participant's name never reaches the store in clear
            "respondent": names.get(record.respondent) or self.text(record.respondent, names)
            if record.respondent else None,
            "account": self.text(record.account, names, mentioned=False) if record.account else record.account,
            "segment": self.text(record.segment, names, mentioned=False) if record.segment else record.segment,
            "fields": {k: self.text(v, names) for k, v in record.fields.items()},
        }
        if record.turns:
            first = record.turns[0]
            preamble = record.text[: max(0, first.start - len(first.speaker) - 2)].rstrip("\n")
            turns = [t.model_copy(update={"speaker": names.get(t.speaker) or self._names(t.speaker, names),
                                          "text": self.text(t.text, names)}) for t in record.turns]
            update["text"], update["turns"] = assemble_turns(turns, self.text(preamble, names))
        else:
            update["text"] = self.text(record.text, names)
        return record.model_copy(update=update)


def _person_fields(record: Record) -> list[str]:
    """The people a record's fields name: its CRM owner, its assignee."""
    return [value.strip() for key, value in record.fields.items()
            if key.lower().replace(" ", "_") in PERSON_FIELDS and _name_like(value.strip()) and "@" not in value
            and not is_generic_label(value.strip()) and len(value) <= 60]


def _name_like(value: str) -> bool:
    """Emails, names and handles are personal ('Bob K.', 'Martha'); an opaque id such as
    R_1a2b, C-1042 or 10422 is not."""
    return "@" in value or bool(re.search(r"[^\W\d_]{2,}\s+[^\W\d_]", value) or re.fullmatch(r"[^\W\d_]{2,}", value))


# Words an interview's file name holds besides its participant's name: the kind of session,
# the recording tool, the file's state, dates. Any other word may be the participant's name.
FILE_WORDS = frozenset("""
interview interviews int exit call calls transcript transcription transcribed notes note session sessions
recording recorded record audio video meeting meet zoom teams otter gong fireflies grain chorus webex
customer customers client participant participants user users respondent research discovery usability
onboarding churn churned cancel cancellation cancelled canceled win loss won lost renewal debrief followup
follow up kickoff demo sales support feedback survey nps csat final draft copy edited edit clean raw export
summary synthesis part pt and the with of for new old v vs q jan feb mar apr may jun jul aug sep sept oct nov
dec january february march april june july august september october november december mon tue wed thu fri
""".split())


def may_name_someone(label: str) -> bool:
    """Whether a file-derived label holds a word that may be a person's name."""
    words = re.split(r"[\W_]+", label.rpartition(":")[2])
    return any(w.isalpha() and len(w) >= 2 and w.lower() not in FILE_WORDS for w in words)
