from valuestory.pipeline.artefacts import Mention
from valuestory.pipeline.opportunities.offline import hypotheses
from valuestory.pipeline.roles import assess_roles


def m(i, tp, s, quote="q" * 5):
    return Mention(record_id=f"nps:{i}", kind="nps", touchpoint=tp, quote=quote, start=0, end=len(quote),
                   sentiment=s, polarity="negative" if s < 0 else "positive", confidence=0.8)


def test_roles_per_phase_from_the_evidence():
    challenge = [m(i, "Free trial", 0.6 if i % 3 else 0.2, "the trial showed us how it would work") for i in range(7)]
    challenge.append(m(9, "Free trial", -0.4, "the trial expired too soon"))
    engagement = [m(i, "Payouts", -0.6, "payouts are slow") for i in range(4)]  # 4 mentions: too few for a verdict
    placed = [("Solo", "Challenge", x) for x in challenge] + [("Solo", "Engagement", x) for x in engagement]
    roles = {r.phase: r for r in assess_roles(placed)}
    assert [r for r in roles] == ["Imbalance", "Challenge", "Engagement", "Transformation"]
    ch = roles["Challenge"]
    assert (ch.role, ch.target_story, ch.transactional_role) == ("Storyteller", "Aspirational", "Provider")
    assert ch.supporting_touchpoints == ["Free trial"] and ch.verdict == "plays it well" and ch.verdict in ch.assessment
    assert [q.text for q in ch.undermining_quotes] == ["the trial expired too soon"]
    assert len(ch.supporting_quotes) == 3 and len({q.record_id for q in ch.supporting_quotes}) == 3
    en = roles["Engagement"]
    assert en.verdict == "not enough evidence" and en.assessment.startswith("Not enough evidence")
    assert en.undermining_touchpoints == ["Payouts"] and en.mentions == 4 and en.records == 4
    assert roles["Imbalance"].mentions == 0 and "No evidence" in roles["Imbalance"].assessment
    assert all(r.assessment.startswith(("Draft", "No evidence", "Not enough")) for r in roles.values())


def test_five_hypotheses_from_the_friction_customers_report():
    mentions = [m(1, "Payouts", -0.6, "Payouts take five days to arrive"),
                m(2, "Payouts", -0.7, "I waited a week for my payout"),
                m(3, "Payouts", -0.5, "the payout failed twice"),
                m(4, "Payouts", 0.6, "instant payouts are great"),
                m(2, "Payouts", -0.4, "and then I waited again")]
    hs = hypotheses("Payouts", mentions)
    assert [h.rank for h in hs] == [1, 2, 3, 4, 5]
    assert hs[0].friction == "waiting" and hs[0].evidence == ["nps:1", "nps:2"]  # one quote per record
    assert any(h.friction == "failure" and h.evidence == ["nps:3"] for h in hs)
    quotes = {x.quote for x in mentions}
    for h in hs:
        assert h.hypothesis.startswith("Hypothesis:") and h.change and h.resources and h.success_measure
        assert h.unintended_consequences and "{tp}" not in h.change + h.success_measure
        assert "nps:4" not in h.evidence
        said = h.hypothesis.split("“")[1].split("”")[0]  # opens with the customers' own words
        assert said in quotes and h.friction != "general"  # no general advice while they name a friction
    assert hs[0].hypothesis.startswith("Hypothesis: 2 of the 3 records with a complaint about Payouts report waiting")


def test_with_no_friction_kind_in_the_words_it_says_so():
    [first, *_] = hypotheses("Payouts", [m(1, "Payouts", -0.5, "meh, really")])
    assert first.friction == "general" and "no one kind of friction" in first.hypothesis
    assert hypotheses("Payouts", [m(1, "Payouts", 0.5, "lovely")]) == []  # nothing to fix, nothing made up


def test_a_reps_notes_are_never_quoted_as_what_customers_report():
    note = Mention(record_id="sales:1", kind="sales", touchpoint="Demo", quote="Won reason: great demo", start=0, end=22,
                   sentiment=0.9, polarity="positive", confidence=0.8)
    placed = [("Solo", "Challenge", note)] + [("Solo", "Challenge", m(i, "Demo", 0.5, "the demo showed us")) for i in range(6)]
    [challenge] = [r for r in assess_roles(placed) if r.phase == "Challenge"]
    assert challenge.supporting_quotes and all(q.record_id != "sales:1" for q in challenge.supporting_quotes)
    assert challenge.mentions == 7  # the note still counts as evidence of what happened
