from valuestory.pipeline.journey import detect_decisions
from valuestory.pipeline.stories.offline import hypotheses
from valuestory.records import Record


def test_hypotheses_cite_customers_and_say_they_are_drafts():
    texts = [
        "I'm a plumber, just me. Before this I used paper quotes. A friend in my trade group told me about it. "
        "I signed up after the trial because I was worried about losing jobs.",
        "We were on spreadsheets. My accountant recommended it. We signed up for the annual plan because we wanted "
        "to stop chasing late payments.",
        "The app is fine.",
    ]
    records = [Record(record_id=f"interview:{i}", kind="interview", source="s", text=t) for i, t in enumerate(texts)]
    decisions = detect_decisions(records, [], {r.record_id: "Solo" for r in records})
    [h] = [h for h in hypotheses(records, decisions) if h.decision == "investment"]
    assert h.persona == "Solo" and h.evidence == ["interview:0", "interview:1"]
    text = {r.record_id: r.text for r in records}
    for statements in list(h.context.values()) + list(h.motivators.values()):
        for s in statements:
            assert s.verbatim and s.text in text[s.records[0]]  # every statement is a customer's sentence, cited
    assert h.context["identity"] and h.context["backstory"] and h.motivators["social_influences"]
    assert h.focus == "prevention"
    assert h.explicit_story.startswith("In their words: “") and "signed up" in h.explicit_story
    assert h.implicit_story.startswith("Hypothesis (offline draft)") and 0 < h.confidence <= 0.9
    assert all(h.decision != "interpretation" for h in hypotheses(records, decisions))  # too little evidence


def test_focus_reads_the_whole_decision_and_the_implicit_story_names_people_not_verbs():
    texts = ["I cancelled. I'm careful with money and the fee hike blindsided me. My accountant told me to leave.",
             "We cancelled because we were afraid of another surprise charge. My bookkeeper agreed."]
    records = [Record(record_id=f"interview:{i}", kind="interview", source="s", text=t) for i, t in enumerate(texts)]
    [h] = hypotheses(records, detect_decisions(records, [], {r.record_id: "Solo" for r in records}))
    assert h.decision == "churn" and h.focus == "prevention"
    assert "my accountant" in h.implicit_story and "told me" not in h.implicit_story
