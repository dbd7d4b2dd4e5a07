from valuestory.pipeline.artefacts import Mention
from valuestory.pipeline.opportunities.offline import hypotheses
from valuestory.pipeline.roles import assess_roles


def m(i, tp, s, quote="q" * 5):
    return Mention(record_id=f"nps:{i}", kind="nps", touchpoint=tp, quote=quote, start=0, end=len(quote),
                   sentiment=s, polarity="negative" if s < 0 else "positive", confidence=0.8)


def test_roles_per_phase_from_the_evidence():
    placed = [("Solo", "Challenge", "Free trial", 0.6, True), ("Solo", "Challenge", "Free trial", 0.5, None),
              ("Solo", "Engagement", "Payouts", -0.7, False), ("Solo", "Engagement", "Payouts", -0.5, False)]
    roles = {r.phase: r for r in assess_roles(placed)}
    assert [r for r in roles] == ["Imbalance", "Challenge", "Engagement", "Transformation"]
    assert (roles["Challenge"].role, roles["Challenge"].target_story, roles["Challenge"].transactional_role) == (
        "Storyteller", "Aspirational", "Provider")
    assert roles["Challenge"].supporting_touchpoints == ["Free trial"] and "plays it well" in roles["Challenge"].assessment
    assert roles["Engagement"].undermining_touchpoints == ["Payouts"] and "falls short" in roles["Engagement"].assessment
    assert roles["Imbalance"].mentions == 0 and "No evidence" in roles["Imbalance"].assessment
    assert all(r.assessment.startswith(("Draft", "No evidence")) for r in roles.values())


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
    for h in hs:
        assert h.hypothesis.startswith("Hypothesis:") and h.change and h.resources and h.success_measure
        assert h.unintended_consequences and "{tp}" not in h.change + h.success_measure
        assert "nps:4" not in h.evidence
