import re
import string

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


MORE_PII = [  # further shapes, each as it turns up in real exports
    ("JO.SMITH@EXAMPLE.COM", "JO.SMITH"), ("<dana.w@example.org>", "dana.w"), ("mailto:ops@acme.example", "ops@acme"),
    ("first.last@sub.domain.example.com", "first.last"), ("user_name-99@example.io", "user_name-99"),
    ("415.555.0132", "555.0132"), ("+1-415-555-0132", "415-555"), ("+33 1 42 68 53 00", "42 68 53"),
    ("+49 30 901820", "901820"), ("+61 2 9374 4000", "9374 4000"), ("020 7946 0958", "7946 0958"),
    ("(020) 7946-0958", "7946-0958"), ("+91 98765 43210", "98765 43210"), ("1-800-555-0199", "555-0199"),
    ("+353 1 234 5678", "234 5678"), ("+81 3-1234-5678", "1234-5678"),
    ("3782 822463 10005", "822463"), ("5555555555554444", "5555555555554444"), ("4012888888881881", "4012888888881881"),
    ("6011 1111 1111 1117", "6011 1111"), ("5105-1051-0510-5100", "5105-1051"),
    ("FR14 2004 1010 0505 0001 3M02 606", "0505 0001"), ("ES91 2100 0418 4502 0005 1332", "4502 0005"),
    ("NL91ABNA0417164300", "0417164300"), ("IT60X0542811101000000123456", "0542811101000000123456"),
    ("JT 98 76 54 B", "98 76 54"), ("219-09-9999", "219-09-9999"),
    ("sk-Tq3Vw8Xz1Bn6Mk4Lp9Rs2Df7Gh5Jc0Ya8Ue3Io6Pw1Qr4St", "Tq3Vw8Xz1Bn6Mk4Lp9Rs"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "11ABCDEFG0123456789"),
    ("xoxp-123456789012-123456789012-abcdef", "123456789012-1234"), ("AKIAJ7Q2EXAMPLEKEY12", "J7Q2EXAMPLE"),
    ("Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJlLXZhbHVlLWhlcmU", "c2lnbmF0dXJl"),
    ("api_key=9f8e7d6c5b4a3f2e1d0c", "9f8e7d6c5b4a"), ("token: 7f3a9c1e5b2d8f4a", "7f3a9c1e5b2d"),
    ("passwd=Tr0ub4dor&3", "Tr0ub4dor"), ("10.0.0.12", "10.0.0.12"), ("172.16.254.1", "172.16.254.1"),
    ("fe80::1ff:fe23:4567:890a", "fe23:4567"), ("date of birth: 1985-03-12", "1985-03-12"),
    ("DOB 03/12/1985", "03/12/1985"), ("born 12.03.1985", "12.03.1985"),
    ("https://app.example.com/login?access_token=q1w2e3r4t5", "q1w2e3r4t5"),
    ("https://admin:s3cretpw@db.example.com", "s3cretpw"),
    ("https://hooks.slack.com/services/T000/B000/Hq7ZkW2pXv9RtL4mNc8sYb3D", "Hq7ZkW2pXv9RtL4m"),
    ("https://example.com/reset?code=88aa77bb66", "88aa77bb66"),
    # shapes a comparison with Presidio and scrubadub (benchmarks/pii.py) found missing
    ("00:1A:2B:3C:4D:5E", "3C:4D:5E"), ("00-1A-2B-3C-4D-5E", "3C-4D-5E"), ("SSN 219 09 9999", "219 09 9999"),
    ("SSN 219099999", "219099999"), ("ITIN 912-70-1234", "912-70-1234"), ("gb82west12345698765432", "12345698765432"),
    ("birthday 12/03/1985", "12/03/1985"), ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc"),
    ("rk_live_51H8abcdEFGHijklMNOP", "51H8abcdEFGH"), ("AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "9tSrke72PouQ"),
    # secrets nothing else writes: a run of over 100 'x' turned up once in the vector index's binary
    # file and counted as this token leaking (where it came from is not known: no customer text
    # holds it, and a freed buffer of a marker did not reach the index when tried)
    ("glpat-Zr8qLw3NvT6yXb1KpD4m", "Zr8qLw3NvT6yXb1KpD4m"), ("npm_Q4wErT7yUi9oPa2sDf5gHj8kLz1xCv6bNm3M", "Q4wErT7yUi9oPa2s"),
    ("-----BEGIN RSA PRIVATE KEY----- MIIEpAIBAAKCAQEA", "MIIEpAIBAAKCAQEA"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    # PINs of six digits: a four-digit fragment turns up by chance in the store's hashes
    ("pw: hunter2", "hunter2"), ("password hunter2", "hunter2"), ("passcode 882641", "882641"),
    ("my pin is 773091", "773091"),
    # bare digits that only the words before them call a phone number
    ("Reach me on 9876543213", "9876543213"), ("call me at 98765 432 13", "98765 432"),
    ("my mobile is 9123456780", "9123456780"), ("tel: 987.654.3213", "987.654"),
]
CORPUS_PII = PII + MORE_PII
PEOPLE = ["Dana Whitfield", "Marco Díaz", "Siobhán O'Neill", "Imogen Pryce"]  # names as speakers and in file names
MENTIONED = ["Brennan Holt", "Priyanka Rao"]  # a CRM's opportunity owner; a name the notes introduce


@pytest.mark.parametrize("written,secret", MORE_PII, ids=[w[:24] for w, _ in MORE_PII])
def test_further_shapes_of_personal_data_are_redacted(written, secret):
    out = redactor().text(f"My details: {written}. Please update them.")
    assert secret not in out and "[" in out and out.endswith("Please update them.")


def _pii_corpus(folder) -> int:
    """Every value of CORPUS_PII in every format and field a connector reads; returns how many
    (value, format, field) variants were written."""
    import csv
    import io
    import json

    import docx
    import openpyxl
    folder.mkdir(parents=True)
    variants = 0

    def table(name, header, rows):
        with (folder / name).open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([header, *rows])

    n = len(CORPUS_PII)
    values = [w for w, _ in CORPUS_PII]
    table("feedback.csv", ["id", "text", "account", "segment"],
          [[w, f"The app keeps crashing. My details: {w}. Please fix the app.", w, w] for i, w in enumerate(values)])
    variants += 4 * n  # id, text, account, segment
    table("sales.csv", ["Opportunity ID", "Stage", "Contact", "Opportunity Owner", "Notes"],
          [[f"o{i}", "Closed Lost", w, MENTIONED[0], f"Customer said the price was too high; reach them at {w}. "
            f"Their account manager {MENTIONED[1]} and {MENTIONED[0].split()[0]} agreed."]
           for i, w in enumerate(values)])
    variants += 2 * n
    book = openpyxl.Workbook()
    book.active.append(["Response ID", "Email", "How likely are you to recommend us?", "Why?", "Segment"])
    for i, w in enumerate(values):
        book.active.append([f"x{i}", w, 3, f"Checkout failed twice, call me: {w}", w])
    buf = io.BytesIO()
    book.save(buf)
    (folder / "nps.xlsx").write_bytes(buf.getvalue())
    variants += 3 * n
    tickets = [{"id": i, "subject": "Refund", "requester": w, "description": f"Where is my refund? {w}",
                "comments": [{"author": "Agent (Imogen Pryce)", "body": "Sorry, Imogen here."},
                             {"author": w, "body": f"Still waiting, {w}"}]} for i, w in enumerate(values)]
    (folder / "tickets.json").write_text(json.dumps({"tickets": tickets}), encoding="utf-8")
    variants += 3 * n  # requester, description, comment author and body
    for i, w in enumerate(values):  # interviews: front matter, turns, and the file's own name
        person = PEOPLE[i % len(PEOPLE)]
        safe = w if "/" not in w else f"note {i}"  # any character but / may be in a file name
        (folder / f"call {person} {safe}.md").write_text(
            f"---\nparticipant: {person}\ncompany: {json.dumps(w)}\nsegment: {json.dumps(w)}\n---\n"
            f"Interviewer: How did it go, {person.split()[0]}?\n{person}: Onboarding was slow. Reach me at {w}.\n"
            f"Interviewer: Anything else?\n{person}: The invoice was wrong.\n", encoding="utf-8")
    variants += 4 * n - sum("/" in w for w in values)  # file name, company, segment, turn text; the person's name in all
    cues = "".join(f"00:00:{i:02d}.000 --> 00:00:{i:02d}.900\n<v {PEOPLE[0]}>My details are {w}, please update them\n\n"
                   for i, w in enumerate(values[:59]))
    (folder / f"{PEOPLE[0]} call.vtt").write_text("WEBVTT\n\n" + cues, encoding="utf-8")
    document = docx.Document()
    for w in values:
        document.add_paragraph(f"{PEOPLE[1]}: Billing was confusing, write to {w}")
        document.add_paragraph("Interviewer: Why?")
    document.save(folder / f"{PEOPLE[1]} interview.docx")
    (folder / f"{PEOPLE[2]}.json").write_text(json.dumps(
        [{"speaker": PEOPLE[2], "text": f"Delivery was late; {w}"} for w in values]
        + [{"speaker": "Interviewer", "text": "What happened?"}]), encoding="utf-8")
    variants += 59 + 2 * n
    return variants


def test_no_personal_data_reaches_the_store_the_index_a_model_request_or_an_export(tmp_path):
    """Every shape above, in every format and field a connector reads (texts, ids, respondents,
    accounts, segments, speaker labels, front matter, file names), ingested and run on a model:
    none of it in the ledger's bytes, the vector index's files, any request sent to the model,
    an export or the report."""
    import json

    from valuestory.ingest.ingest import ingest
    from valuestory.pipeline.run import run
    from valuestory.project import Project
    from valuestory.render.exports import KINDS
    from valuestory.render.exports import rows as export_rows
    from valuestory.render.report import render
    from valuestory.stores.runs import RunStore
    from valuestory.testing import ScriptedModel, answer
    variants = _pii_corpus(tmp_path / "data")
    assert variants >= 100 and len(CORPUS_PII) >= 90
    project = Project(tmp_path / "p")
    project.create()
    reports = ingest(project, [tmp_path / "data"])
    assert all(r.status == "stored" for r in reports), [r.message for r in reports if r.status != "stored"]
    model = ScriptedModel(name="counting-fake", on_call=answer)
    run(project, "offline", model=model)
    reader = RunStore(project.ledger).latest()
    placements = {"a model request": json.dumps(model.calls, ensure_ascii=False),
                  "the records' export": json.dumps([r.model_dump() for r in project.ledger.records()], ensure_ascii=False),
                  "the sources' paths": json.dumps([s.path for s in project.ledger.sources()], ensure_ascii=False),
                  "the HTML report": render(project, "html", reader), "the Markdown report": render(project, "md", reader)}
    placements |= {f"export {kind}": json.dumps(export_rows(reader, kind, csv=True), ensure_ascii=False, default=str)
                   for kind in KINDS}
    placements |= {f"the store's file {f.relative_to(project.store_dir)}": f.read_bytes().decode("utf-8", "surrogateescape")
                   for f in project.store_dir.rglob("*") if f.is_file()}
    assert model.calls, "the model was asked nothing"
    secrets = [secret for _, secret in CORPUS_PII] + PEOPLE + [p.split()[-1] for p in PEOPLE]
    secrets += [part for name in MENTIONED for part in name.split()]
    leaks = leaked(secrets, placements, written=[w for w, _ in CORPUS_PII])
    assert not leaks, f"{len(leaks)} of {len(secrets)} leak:\n" + "\n".join(leaks[:10])


def leaked(secrets: list[str], placements: dict[str, str], written: list[str]) -> list[str]:
    """Each secret found, with the placement it was found in and the words around it. The
    store holds hex digests (hashes, cache keys, pseudonyms, label digests) made anew with each
    project's salt and date: a secret of a few digits turns up inside one by chance (five given
    digits about once a million hex positions). A hit wholly inside such a word, one that no
    written value holds, is that chance; a secret shaped like a digest still counts where it
    stands as it was written."""
    found = []
    for secret in secrets:
        for where, text in placements.items():
            for hit in re.finditer(re.escape(secret), text):
                word = _word_around(text, hit.start(), hit.end())
                if _digest_like(word) and not any(word in w for w in written):
                    continue
                found.append(f"{secret!r} in {where}: …{text[max(0, hit.start() - 60):hit.end() + 30]!r}…")
                break
    return found


def _word_around(text: str, start: int, end: int) -> str:
    """The run of hex digits the hit sits in (the store's binary rows put fields side by side)."""
    hexdigits = set(string.hexdigits)
    while start > 0 and text[start - 1] in hexdigits:
        start -= 1
    while end < len(text) and text[end] in hexdigits:
        end += 1
    return text[start:end]


def _digest_like(word: str) -> bool:
    return len(word) >= 8 and bool(re.fullmatch(r"[0-9a-f]+|[0-9A-F]+", word)) and not word.isdigit()


def test_a_secret_inside_a_digest_is_chance_and_a_leak_is_named_with_its_placement():
    store = {"ledger": "cache 5cae5837eb1b43212059fa8a039fd60c record",  # a SHA-256 holding '43212'
             "wal": "sales.csvfeedbacka59598ec144321215e11[phone]"}  # fields side by side in a binary row
    assert leaked(["43212"], store, written=["098765 43212"]) == []
    found = leaked(["43212"], {"ledger": "call me on 098765 43212 today"}, written=["098765 43212"])
    assert len(found) == 1 and "in ledger" in found[0] and "098765 43212" in found[0]
    # a secret shaped like a digest is a leak where it stands as written
    assert leaked(["7f3a9c1e5b2d"], {"report": "token 7f3a9c1e5b2d8f4a"}, written=["token: 7f3a9c1e5b2d8f4a"])


def test_a_file_name_holding_a_participants_name_in_lower_case_shows_only_their_pseudonym():
    text, turns = assemble_turns([Turn(speaker="Interviewer", role="company", text="Bev, thanks for joining."),
                                  Turn(speaker="Bev", role="customer", text="Happy to.")])
    rec = Record(record_id="interview:bev_thornton_2026-09-18", kind="interview", source="bev_thornton_2026-09-18.vtt",
                 text=text, turns=turns)
    r = redactor()
    names = r.name_map(rec)
    label = r.label(rec.record_id, names)
    assert "bev" not in label.lower() and "thornton" not in label.lower()  # the surname beside it goes too
    assert label.startswith("interview:" + names["Bev"] + "~")
    assert r.label("interview:beverly_hills_visit", names) == "interview:beverly_hills_visit"  # a word, not the name
    assert "thornton" not in r.path("interviews/bev_thornton_2026-09-18.vtt", names)


@pytest.mark.parametrize("stem,personal", [
    ("jane_doe_call", True), ("2026-05-12_kowalski", True), ("exit-interview-zhang-wei", True),
    ("p07_exit_interview_2026-09-09", False), ("interview_03", False), ("Zoom Recording 2026-10-01", False),
])
def test_an_interview_file_named_after_someone_nobody_names_becomes_a_pseudonym(stem, personal):
    """Speakers labelled only 'Interviewer' and 'Customer': the name is in the file name alone."""
    text, turns = assemble_turns([Turn(speaker="Interviewer", role="company", text="How was setup?"),
                                  Turn(speaker="Customer", role="customer", text="An afternoon.")])
    r = redactor()
    rec = r.record(Record(record_id=f"interview:{stem}", kind="interview", source=f"{stem}.txt", text=text, turns=turns))
    path = r.path(f"interviews/{stem}.txt", {}, personal=True)
    if personal:
        assert rec.record_id.startswith("interview:Participant-") and path == f"interviews/{rec.record_id[10:]}.txt"
        assert not any(w in rec.record_id.lower() for w in ("jane", "doe", "kowalski", "zhang", "wei"))
    else:
        assert rec.record_id == f"interview:{stem}" and path == f"interviews/{stem}.txt"
    assert rec.respondent is None or rec.respondent == "Customer"  # a role, not a person
    assert redactor(file_names=False).label(f"interview:{stem}", {}, personal=True) == f"interview:{stem}"


def test_reviewer_and_name_columns_are_respondents_and_never_stored_in_clear(tmp_path):
    from valuestory.ingest.ingest import ingest
    from valuestory.project import Project
    people = {"Reviewer": ["Martha Stewart", "Bob K."], "Customer name": ["Peter Parker", "Aiko"],
              "Author": ["Lena Fischer", "Jo"]}
    for header, (a, b) in people.items():
        (tmp_path / f"{header.replace(' ', '_')}.csv").write_text(
            f"{header},Rating,Review\n{a},2,Waited twenty minutes for a coffee.\n{b},5,Lovely croissants.\n",
            encoding="utf-8")
    project = Project(tmp_path / "p")
    project.create()
    reports = ingest(project, sorted(tmp_path.glob("*.csv")))
    assert all(r.status == "stored" for r in reports), [r.message for r in reports]
    records = list(project.ledger.records())
    assert len(records) == 6 and all(r.respondent and r.respondent.startswith("Respondent-") for r in records)
    stored = b"".join(f.read_bytes() for f in project.store_dir.rglob("*") if f.is_file())
    for names in people.values():
        for name in names:
            if len(name) >= 3:
                assert name.encode() not in stored, name


def test_a_row_without_an_id_is_never_named_like_a_phone_number(tmp_path):
    """An id-less row is named by a digest of its content; one made only of digits
    (`4155550132`) would be read as a phone number and the record shown as `[phone]`."""
    import hashlib

    from valuestory.connectors.rows import CONTENT_DIGEST
    from valuestory.ingest.ingest import ingest
    from valuestory.project import Project
    rows = [("3", f"The invoice page took {i} tries to load.") for i in range(400)]
    all_digits = [r for r in rows if hashlib.sha1("\x1f".join(r).encode()).hexdigest()[:CONTENT_DIGEST].isdigit()]
    assert all_digits, "the rows should hold one whose plain digest is all digits"
    (tmp_path / "reviews.csv").write_text("Rating,Review\n" + "".join(f"{a},{b}\n" for a, b in rows), encoding="utf-8")
    project = Project(tmp_path / "p")
    project.create()
    assert [r.status for r in ingest(project, [tmp_path / "reviews.csv"])] == ["stored"]
    ids = {r.text: r.record_id for r in project.ledger.records()}
    assert len(ids) == len(rows) and not any("[" in i or "~" in i for i in ids.values())
    assert all(not ids[text].rpartition(":")[2].isdigit() for _, text in all_digits)


@pytest.mark.parametrize("text,name", [
    ("Our account manager Priyanka checks in every month.", "Priyanka"),
    ("And our account manager, Priyanka. She was honest.", "Priyanka"),
    ("My friend Kasia Nowak told me about you.", "Kasia Nowak"),
    ("The support agent Tomasz fixed it in minutes.", "Tomasz"),
    ("Mr. Okafor called us back the next day.", "Okafor"),
    ("Dr Lindqvist said the reports are fine.", "Lindqvist"),
    ("A guy named Marcus walked me through it.", "Marcus"),
    ("Hi Brennan,\nthe invoice is still wrong.", "Brennan"),
    ("Our waiter Giorgio was lovely.", "Giorgio"),
    ("Dana from support sorted the refund.", "Dana"),
])
def test_a_name_the_text_introduces_becomes_a_pseudonym(text, name):
    out = redactor().text(text)
    assert not any(part in out for part in name.split()) and re.search(r"Person-[0-9A-F]{6}", out), out


@pytest.mark.parametrize("text", [
    "Help from support was slow and nobody from sales called back.",
    "Our rep The app was slow.",  # a capitalised word that is not a name
    "Hi there, the driver, Who knows when, came late.",
    "Dear Sir, my manager Monday morning asked for it.",
    "I called Crewbook support twice and a friend recommended it.",
    "Thanks Team, the Mobile App works now.",
    "No apology from the waiter In between our lunch, a man burst out.",
    "A game changer for my mum Mum can get up on her own now.",  # what a family calls someone
])
def test_capitalised_words_that_are_not_names_are_kept(text):
    assert redactor().text(text) == text


def test_a_name_learned_is_pseudonymised_in_later_records_files_and_ingests_but_not_common_words(tmp_path):
    from valuestory.ingest.ingest import ingest
    from valuestory.project import Project
    (tmp_path / "a_interview.txt").write_text(
        "Interviewer: Who helped?\nCustomer: Our account manager, Priyanka Rao. And my friend Will set it up.\n"
        "Interviewer: Anything else?\nCustomer: I will renew, the app will do.\n", encoding="utf-8")
    (tmp_path / "b_nps.csv").write_text(
        "id,score,comment,account\n1,9,Priyanka is the reason we renewed.,Rao Builders\n"
        "2,8,Will you add a dark mode? Rao said soon.,Rao Builders\n", encoding="utf-8")
    (tmp_path / "c_deals.csv").write_text(
        "Opportunity ID,Account,Stage,Opportunity Owner,Notes\n"
        "OPP-1,Rao Builders,Closed Won,Brennan Holt,Signed after Brennan showed the quote builder.\n", encoding="utf-8")
    project = Project(tmp_path / "p")
    project.create()
    assert [r.status for r in ingest(project, sorted(tmp_path.glob("*.*")))] == ["stored"] * 3
    records = {r.kind: r for r in project.ledger.records()}
    interview, nps, deal = records["interview"], [r for r in project.ledger.records() if r.kind == "nps"], records["sales"]
    alias = re.search(r"manager, (Person-[0-9A-F]{6})\.", interview.text).group(1)
    assert "Priyanka" not in interview.text and "my friend Person-" in interview.text  # at a cue, even a common word
    assert nps[0].text == f"{alias} is the reason we renewed."  # in a later file, the same pseudonym
    assert nps[1].text.startswith("Will you add a dark mode?") and "Rao" not in nps[1].text  # 'will' is a word
    assert nps[0].fields["account"] == f"{alias} Builders"  # a column of text like any other
    assert deal.account == "Rao Builders"  # an account joins records: learned names leave it as it was
    assert "Brennan" not in json_of(deal) and "Holt" not in json_of(deal) and deal.fields["owner"].startswith("Staff-")
    # a later ingest knows the names the earlier one learned; the ledger keeps only their digests
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "d_nps.csv").write_text("id,score,comment\n9,10,Priyanka again saved the day.\n",
                                                  encoding="utf-8")
    ingest(project, [tmp_path / "later" / "d_nps.csv"])
    later = next(r for r in project.ledger.records() if r.text.endswith("again saved the day."))
    assert later.text == f"{alias} again saved the day."
    stored = b"".join(f.read_bytes() for f in project.store_dir.rglob("*") if f.is_file())
    for name in ("Priyanka", "Brennan", "Holt"):
        assert name.encode() not in stored, name
    project.ledger.close()


def test_names_the_text_introduces_can_be_left_in_by_the_config():
    assert redactor(mentioned_names=False).text("My friend Kasia told me.") == "My friend Kasia told me."


def json_of(record) -> str:
    return record.model_dump_json()
