from valuestory.pipeline.artefacts import Mention
from valuestory.pipeline.jobs import is_valid_job, job_statement
from valuestory.pipeline.valuemap import build_value_maps
from valuestory.records import Record
from valuestory.stores.embeddings import make_embedder


def test_job_statements_come_from_customers_words_without_solutions():
    assert job_statement("I needed a way to get paid on the spot, honestly.") == "Get paid on the spot"
    assert job_statement("We wanted to stop chasing late payments because it ate our Fridays") == "Stop chasing late payments"
    assert job_statement("I needed an app to send invoices") is None  # no solution in a job
    assert job_statement("We needed to manage our customers") is None  # never manage/support/help/maintain
    assert job_statement("The app is fast") is None
    assert not is_valid_job("Use the software to invoice") and is_valid_job("Send a quote before leaving the site")


def test_value_map_per_persona():
    texts = ["I needed to get paid on the spot. I can't wait a week for payouts.",
             "We need to get paid faster. Payouts take five days.",
             "I wanted to send quotes from the driveway. The quote builder is great."]
    records = [Record(record_id=f"nps:{i}", kind="nps", source="s", text=t, segment="Solo") for i, t in enumerate(texts)]
    mentions = [Mention(record_id="nps:1", kind="nps", touchpoint="Payouts", quote="Payouts take five days",
                        start=27, end=49, sentiment=-0.6, polarity="negative", confidence=0.8),
                Mention(record_id="nps:2", kind="nps", touchpoint="Quote builder", quote="The quote builder is great",
                        start=42, end=68, sentiment=0.7, polarity="positive", confidence=0.8)]
    [vm] = build_value_maps(records, mentions, {r.record_id: "Solo" for r in records}, [], [],
                            make_embedder("wordllama").embed)
    assert vm.persona == "Solo" and 1 <= len(vm.jobs) <= 3
    paid = next(j for j in vm.jobs if "paid" in j.job.lower())
    assert paid.statements == 2 and paid.evidence == ["nps:0", "nps:1"]
    assert paid.desired_outcome == "Draft: Minimize the time it takes to get paid on the spot"
    assert paid.value_gap is not None and paid.value_gap.text == "I can't wait a week for payouts."
    assert paid.value_gap.record_id == "nps:0" and texts[0][paid.value_gap.start:paid.value_gap.end] == paid.value_gap.text
    assert paid.key_touchpoints == ["Payouts"] and paid.value_promise.startswith("Draft: for Solo")
    assert "The quote builder is great" in " ".join(q.text for q in vm.empathy_map["says"])


def test_jobs_also_come_from_purposes_and_from_what_customers_cannot_do():
    from valuestory.pipeline.jobs import cannot_job
    assert job_statement("We switched so we can take card payments at the door.") == "Take card payments at the door"
    assert job_statement("The whole point was to stop chasing payments, really") == "Stop chasing payments"
    assert cannot_job("Without it we can't tell which jobs lose money.") == "Tell which jobs lose money"
    assert cannot_job("I can't see revenue per crew without exporting.") == "See revenue per crew"
    assert cannot_job("I can't log in and I have invoices to send.") is None  # the product, not a job
    assert cannot_job("I couldn't tell which plan had the card reader.") is None
    assert cannot_job("We can't keep doing this.") is None and cannot_job("I can't believe the price") is None


def test_offline_jobs_rank_goals_said_most_often_first():
    from valuestory.pipeline.text import clauses
    from valuestory.pipeline.valuemap import offline_jobs
    texts = ["I can't see revenue per crew.", "We still can't see revenue per crew, it is painful.",
             "I need to send quotes from the driveway.", "I can't stop techs from seeing job prices."]
    records = [Record(record_id=f"nps:{i}", kind="nps", source="s", text=t) for i, t in enumerate(texts)]
    jobs = offline_jobs([c for r in records for c in clauses(r)], make_embedder("wordllama").embed)
    assert [(j.job, j.statements) for j in jobs][:2] == [("See revenue per crew", 2), ("Send quotes from the driveway", 1)]
    assert jobs[0].records == {"nps:0", "nps:1"}


def test_an_unrelated_cannot_sentence_is_not_a_jobs_value_gap():
    texts = ["I needed to get paid on the spot.", "I can't get into my account."]
    records = [Record(record_id=f"nps:{i}", kind="nps", source="s", text=t) for i, t in enumerate(texts)]
    mentions = [Mention(record_id="nps:0", kind="nps", touchpoint=tp, quote="I needed to get paid on the spot",
                        start=0, end=32, sentiment=0.6, polarity="positive", confidence=0.8)
                for tp in ("Payouts", "Payments")]
    [vm] = build_value_maps(records, mentions, {}, [], [], make_embedder("wordllama").embed)
    [job] = vm.jobs
    assert job.job == "Get paid on the spot" and job.value_gap is None
    assert len(job.high_points) == 1  # one sentence about two touchpoints is one high point
