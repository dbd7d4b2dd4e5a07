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


def test_a_model_drafts_the_assessment_from_the_cited_quotes_never_the_verdict():
    from valuestory.llm.runner import Answer
    from valuestory.pipeline.artefacts import Coding, Journey, Placement
    from valuestory.pipeline.roles import llm as roles_llm
    from valuestory.pipeline.roles.offline import roles as offline_roles

    challenge = [m(i, "Free trial", 0.6, "the trial showed us how it would work") for i in range(7)]
    challenge.append(m(9, "Free trial", -0.4, "the trial expired too soon"))
    thin = [m(i, "Payouts", -0.6, "payouts are slow") for i in range(4)]  # no verdict: not sent
    coding = Coding(touchpoints=[], mentions=challenge + thin)
    journey = Journey(decisions=[], placements=[Placement(persona="Solo", phase="Challenge", stage="Consideration",
                                                          purchase="pre")] * len(challenge)
                      + [Placement(persona="Solo", phase="Engagement", stage="Service", purchase="post")] * len(thin))
    [req] = roles_llm.requests(coding, journey)
    user = req.messages[1]["content"]
    assert "Phase: Challenge; role Storyteller" in user and "computed verdict: plays it well" in user
    assert "Phase: Engagement" not in user  # not enough evidence for a verdict: nothing to explain
    # one more customer saying the same moves no figure at the precision shown: the same request
    more = Coding(touchpoints=[], mentions=[*challenge, m(8, "Free trial", 0.6, "the trial showed us how it would work"),
                                            *thin])
    placed = Journey(decisions=[], placements=[journey.placements[0], *journey.placements])
    [again] = roles_llm.requests(more, placed)
    assert again.cache_key("m") == req.cache_key("m")
    _, tags = req.context
    bad = roles_llm.RolesAnswer(assessments=[
        roles_llm.DraftAssessment(phase="Engagement", assessment="They guide well, we think.", evidence=["e1"]),
        roles_llm.DraftAssessment(phase="Challenge", assessment="The trial shows the future.", evidence=["e99"])])
    assert req.check(bad) == ["the phase 'Engagement' is not one of those listed", "tag 'e99' is not one of the passages"]
    good = roles_llm.RolesAnswer(assessments=[roles_llm.DraftAssessment(
        phase="Challenge", assessment="The trial lets customers see their future; one found it too short.",
        evidence=["e1", "e4"])])
    assert req.check(good) == []
    out = roles_llm.parse([Answer(req, good, model="scripted:r")], lambda: offline_roles(coding, journey), coding, journey)
    by_phase = {r.phase: r for r in out.roles}
    assert by_phase["Challenge"].assessment == "Draft: The trial lets customers see their future; one found it too short."
    assert by_phase["Challenge"].engine == "llm draft (scripted:r)" and by_phase["Challenge"].verdict == "plays it well"
    assert by_phase["Engagement"] == {r.phase: r for r in offline_roles(coding, journey).roles}["Engagement"]
    failed = roles_llm.parse([Answer(req, bad, problems=["x"], model="scripted:r")],
                             lambda: offline_roles(coding, journey), coding, journey)
    assert failed == offline_roles(coding, journey)
