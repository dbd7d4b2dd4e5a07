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


# --- the shapes of personal data and secrets, in text and in structured fields -----------------

PII = [  # (as a customer or a CRM wrote it, what must not survive of it)
    ("jo.smith+crm@example.co.uk", "jo.smith"), ("josé.garcía@exämple.de", "garcía"),
    ("(415) 555-0132", "555-0132"), ("+44 20 7946 0958", "7946 0958"), ("07700 900461", "900461"),
    ("0044 7700 900125", "900125"), ("098765 43212", "43212"),
    ("4111 1111 1111 1111", "4111 1111"), ("4111.1111.1111.1111", "4111.1111"), ("4111-1111-1111-1111", "4111-1111"),
    ("GB82 WEST 1234 5698 7654 32", "5698 7654"), ("DE89370400440532013000", "370400440532013000"),
    ("123-45-6789", "123-45-6789"), ("JG 10 37 26 A", "10 37 26"), ("AB123456C", "AB123456C"),
    ("sk-proj-abcdefghijklmnopqrstuv1234", "abcdefghijklmnop"), ("AKIAIOSFODNN7EXAMPLE", "IOSFODNN7"),
    ("ghp_" + "a1B2c3D4e5" * 4, "a1B2c3D4e5"), ("xoxb-1234567890-abcdefghij", "1234567890-abc"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "dozjgNryP4"),
    ("password: hunter2!", "hunter2"), ("192.168.10.24", "192.168.10.24"), ("2001:db8:85a3::8a2e:370:7334", "85a3::8a2e"),
    ("DOB: 12/03/1985", "12/03/1985"), ("born on 3 March 1985", "3 March 1985"),
    ("www.example.com/reset?token=abcd1234", "abcd1234"), ("https://x.example/hook?sig=zz99yy", "zz99yy"),
]


@pytest.mark.parametrize("written,secret", PII, ids=[w[:24] for w, _ in PII])
def test_every_shape_of_personal_data_is_redacted(written, secret):
    out = redactor().text(f"My details: {written}. Please update them.")
    assert secret not in out and "[" in out and out.endswith("Please update them.")


@pytest.mark.parametrize("text", [
    "we met at 12:30:45 and again at 14:00", "version 2.3 shipped on 2026-03-14", "order PO12 3456 7890 1234 5",
    "the secret of good support is patience", "rated it 9/10, born and raised here",
])
def test_times_versions_and_plain_words_are_not_personal_data(text):
    assert redactor().text(text) == text


def test_structured_fields_are_redacted_before_storage():
    record = Record(record_id="nps:1", kind="nps", source="s.csv", respondent="+44 20 7946 0958",
                    account="billing@acme-plumbing.example", segment="jo.smith@example.co.uk", text="Fine.")
    out = redactor().record(record)
    assert (out.respondent, out.account, out.segment) == ("[phone]", "[email]", "[email]")


def test_no_personal_data_reaches_the_store_the_index_a_model_request_or_an_export(tmp_path):
    """Every shape above, in the text and in the account and segment columns of a feedback
    file, ingested and run on a model: none of it in the ledger's bytes, the vector index's
    files, any request sent to the model, an export or the report."""
    import csv
    import json

    from valuestory.ingest.ingest import ingest
    from valuestory.pipeline.run import run
    from valuestory.project import Project
    from valuestory.render.report import render
    from valuestory.stores.runs import RunStore
    from valuestory.testing import ScriptedModel, answer
    data = tmp_path / "feedback.csv"
    with data.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "account", "segment"])
        for i, (written, _) in enumerate(PII):
            w.writerow([f"r{i}", f"The invoice app keeps crashing. My details: {written}. Please fix the app.",
                        written, written])
    project = Project(tmp_path / "p")
    project.create()
    [report] = ingest(project, [data], kind="feedback",
                      mapping={"id": "id", "text": "text", "respondent": "account", "segment": "segment"})
    assert report.status == "stored", report.message
    model = ScriptedModel(name="counting-fake", on_call=answer)
    run(project, "offline", model=model)
    reader = RunStore(project.ledger).latest()
    sent = json.dumps([call for call in model.calls], ensure_ascii=False)
    exported = json.dumps([r.model_dump() for r in project.ledger.records()], ensure_ascii=False)
    exported += json.dumps([m.model_dump() for m in reader.coding.mentions], ensure_ascii=False)
    html = render(project, "html", reader)
    stored = b"".join(f.read_bytes() for f in project.store_dir.rglob("*") if f.is_file())
    assert model.calls, "the model was asked nothing"
    for _, secret in PII:
        assert secret not in sent and secret not in exported and secret not in html, secret
        assert secret.encode() not in stored, secret
