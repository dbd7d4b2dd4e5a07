import pytest

from valuestory.config import PrivacySection
from valuestory.ingest.redact import Redactor
from valuestory.records import Record, Turn, assemble_turns


def redactor(**settings) -> Redactor:
    return Redactor(PrivacySection(salt="test-salt", **settings))


@pytest.mark.parametrize("text,expected", [
    ("mail me at jo.smith+crm@example.co.uk today", "mail me at [email] today"),
    ("call (415) 555-0132 please", "call [phone] please"),
    ("UK office +44 20 7946 0958", "UK office [phone]"),
    ("mobile 07700 900461", "mobile [phone]"),
    ("or 555-201-7788 after six", "or [phone] after six"),
    ("card 4111 1111 1111 1111 expired", "card [card] expired"),
    ("card 4111-1111-1111-1111", "card [card]"),
    ("https://app.example.com/reset?token=abc123&lang=en", "https://app.example.com/reset?token=[secret]&lang=en"),
    ("ftp://admin:hunter2@files.example.com/x", "ftp://[secret]@files.example.com/x"),
    ("https://x.example/pay?api_key=k1&sig=zz", "https://x.example/pay?api_key=[secret]&sig=[secret]"),
])
def test_personal_data_is_replaced(text, expected):
    assert redactor().text(text) == expected


@pytest.mark.parametrize("text", [
    "invoice 2026-03-14 for $1,234.56",
    "order number 1234 5678 9012 3456",  # 16 digits, but fails the Luhn check
    "we have 1400 customers and 30 techs",
    "see https://crewbook.example/help/payouts",
])
def test_ordinary_numbers_and_urls_are_kept(text):
    assert redactor().text(text) == text


def test_names_become_stable_pseudonyms_everywhere_in_the_record():
    text, turns = assemble_turns([
        Turn(speaker="Sasha Kim", role="company", text="Thanks for joining, Marco."),
        Turn(speaker="Marco Diaz", role="customer", text="Happy to. Sasha, my email is m@d.io."),
    ], "Interview with Marco Diaz")
    record = Record(record_id="interview:m", kind="interview", source="m.txt", text=text, turns=turns,
                    respondent="Marco Diaz")
    out = redactor().record(record)
    for name in ("Marco", "Diaz", "Sasha", "Kim", "m@d.io"):
        assert name not in out.text
    marco = out.respondent
    assert marco.startswith("Customer-") and out.turns[1].speaker == marco
    assert out.turns[0].speaker.startswith("Staff-")
    assert out.text.startswith(f"Interview with {marco}\n\n")
    assert out.turns[0].text == f"Thanks for joining, {marco}."
    for t in out.turns:
        assert out.text[t.start:t.end] == t.text
    # the same person gets the same pseudonym in another record and another run
    other = Record(record_id="support:1", kind="support", source="t.csv", text="", turns=[
        Turn(speaker="Marco Diaz", role="customer", text="Sync broke")])
    assert redactor().record(other).turns[0].speaker == marco
    # a different salt gives different pseudonyms
    assert Redactor(PrivacySection(salt="other")).record(record).respondent != marco


def test_generic_labels_stay_and_respondent_emails_are_pseudonymized():
    record = Record(record_id="nps:1", kind="nps", source="s.csv", text="fine", respondent="ana@example.com")
    out = redactor().record(record)
    assert out.respondent.startswith("Respondent-") and "@" not in out.respondent
    opaque = Record(record_id="nps:2", kind="nps", source="s.csv", text="fine", respondent="R_1a2b")
    assert redactor().record(opaque).respondent == "R_1a2b"
    text, turns = assemble_turns([Turn(speaker="Interviewer", role="company", text="Why?")])
    rec = Record(record_id="i", kind="interview", source="i", text=text, turns=turns)
    assert redactor().record(rec).turns[0].speaker == "Interviewer"


def test_switches_turn_redaction_off():
    text = "mail a@b.com or call (415) 555-0132"
    assert redactor(redact=False).text(text) == text
    assert redactor(emails=False).text(text) == "mail a@b.com or call [phone]"
    assert redactor(phones=False).text(text) == "mail [email] or call (415) 555-0132"


def test_counts_what_it_redacted():
    r = redactor()
    r.text("a@b.com c@d.org (415) 555-0132")
    assert r.counts == {"email": 2, "phone": 1}
