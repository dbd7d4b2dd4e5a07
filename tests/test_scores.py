import numpy as np

from valuestory.pipeline.artefacts import Mention, TouchpointDef
from valuestory.pipeline.scores import nps, score
from valuestory.records import Record


def nps_record(i: int, s: float) -> Record:
    return Record(record_id=f"nps:{i}", kind="nps", source="s", text=f"comment {i}", score=s, respondent=f"r{i}")


def mention(i: int, tp: str, sentiment: float, did_job=None, kind="nps") -> Mention:
    return Mention(record_id=f"{kind}:{i}", kind=kind, touchpoint=tp, quote="x" * 5, start=0, end=5,
                   sentiment=sentiment, polarity="negative" if sentiment < 0 else "positive",
                   did_job=did_job, confidence=0.9)


def test_nps_arithmetic():
    assert nps(np.array([1, 1, 0, -1])) == 25.0
    assert nps(np.array([])) is None


def test_scores_are_computed_from_the_data():
    # 10 respondents: 0-3 detractors who mention payouts, 4-9 promoters, two mention quotes
    records = [nps_record(i, 2 if i < 4 else 10) for i in range(10)]
    mentions = [mention(i, "Payouts", -0.6, did_job=False) for i in range(4)]
    mentions += [mention(i, "Quotes", 0.8, did_job=True) for i in (4, 5)] + [mention(6, "Quotes", 0.4)]
    defs = [TouchpointDef(name="Payouts", channel="product", effort="high"),
            TouchpointDef(name="Quotes", channel="product", effort="low")]
    card = score(mentions, records, defs)
    assert card.overall_nps == 20.0 and card.nps_respondents == 10
    payouts = next(s for s in card.scores if s.touchpoint == "Payouts" and s.scope == "overall")
    assert (payouts.mentions, payouts.records, payouts.respondents, payouts.frequency) == (4, 4, 4, 0.4)
    assert payouts.emotional_impact.value == -0.6
    assert payouts.functional_performance.value == 0.0 and payouts.functional_performance.high < 0.6
    # without the four detractors NPS would be 100: payouts cost 80 points
    assert payouts.nps_mentioners == -100.0 and payouts.nps_others == 100.0
    assert payouts.nps_impact.value == -80.0
    assert payouts.nps_impact.low <= -80.0 <= payouts.nps_impact.high
    quotes = next(s for s in card.scores if s.touchpoint == "Quotes" and s.scope == "overall")
    assert quotes.emotional_impact.low <= quotes.emotional_impact.value <= quotes.emotional_impact.high
    assert quotes.nps_impact.value > 0
    assert card.fix_first[0] == "Payouts" and payouts.rank == 1
    assert {s.scope for s in card.scores} == {"overall", "nps"}


def test_lost_deals_and_easy_fixes():
    records = [Record(record_id=f"sales:{i}", kind="sales", source="s", text="notes",
                      fields={"outcome": "lost" if i < 3 else "won"}) for i in range(6)]
    mentions = [mention(i, "Pricing page", -0.7, kind="sales") for i in range(3)]
    defs = [TouchpointDef(name="Pricing page", channel="web", effort="low")]
    card = score(mentions, records, defs)
    s = card.scores[0]
    assert s.lost_deal_rate == 1.0 and s.lost_deal_rate_all == 0.5 and s.business_impact > 0.5
    assert s.churn_rate is None  # none of these deals is a renewal
    assert card.easy_fixes == ["Pricing page"]


def test_churn_among_renewals():
    records = [Record(record_id=f"sales:{i}", kind="sales", source="s", text="notes",
                      fields={"outcome": "lost" if i in (0, 1) else "won", "type": "Renewal" if i < 4 else "New"})
               for i in range(6)]
    card = score([mention(i, "Offline mode", -0.8, kind="sales") for i in (0, 1, 4)], records, [])
    s = card.scores[0]
    assert (s.churn_rate, s.churn_rate_all) == (1.0, 0.5) and s.lost_deal_rate == round(2 / 3, 3)


def test_too_few_mentions_are_listed_but_not_ranked():
    card = score([mention(0, "Fax", -0.9)], [nps_record(0, 1)], [])
    assert card.scores[0].rank is None and card.fix_first == []


def review(i: int, stars: float, scale: str = "1-5") -> Record:
    return Record(record_id=f"feedback:{i}", kind="feedback", source="r.csv", text=f"review {i}", score=stars,
                  fields={"score_scale": scale})


def test_star_ratings_give_a_rating_impact_with_an_interval_where_there_is_no_nps():
    # 40 reviews: the 12 that mention waiting average 1.5 stars, the rest 4.5; cakes are
    # mentioned across the board and should show no gap
    records = [review(i, (1 + i % 2) if i < 12 else (4 + i % 2)) for i in range(40)]
    mentions = [mention(i, "Waiting", -0.5, kind="feedback") for i in range(12)]
    mentions += [mention(i, "Cakes", 0.6, kind="feedback") for i in range(0, 40, 4)]
    # a 0-10 rated row among them is on another scale and is left out of the mean
    records.append(review(99, 0, scale="0-10"))
    defs = [TouchpointDef(name="Waiting", channel="in person", effort="low"),
            TouchpointDef(name="Cakes", channel="product", effort="medium")]
    card = score(mentions, records, defs)
    assert card.overall_nps is None and card.rating_respondents == 40 and card.rating_scale == "1-5"
    assert card.overall_rating == round(np.mean([r.score for r in records[:40]]), 2)
    waiting = next(s for s in card.scores if s.touchpoint == "Waiting" and s.scope == "overall")
    assert (waiting.rating_mentioners, waiting.rating_others) == (1.5, 4.5) and waiting.rating_impact.value == -3.0
    assert waiting.rating_impact.high < 0 and waiting.rating_impact.n == 40  # the interval excludes 0
    assert waiting.nps_impact.value is None and waiting.business_impact > 0.5
    cakes = next(s for s in card.scores if s.touchpoint == "Cakes" and s.scope == "overall")
    assert cakes.rating_impact.low <= 0 <= cakes.rating_impact.high  # no gap: the interval says so
    assert card.fix_first[0] == "Waiting"
    # per kind too, and nothing for a scope without ratings
    assert next(s for s in card.scores if s.touchpoint == "Waiting" and s.scope == "feedback").rating_impact.value == -3.0
    assert score(mentions, [r.model_copy(update={"score": None}) for r in records], defs).rating_scale is None
