"""Whose words: over the whole sample run, nothing a rep wrote about a customer (CRM notes) and
nothing the company said (interviewers, agents) is presented as the customer's own words, and
no sentence is on one persona's evidence board twice."""

from __future__ import annotations

import re

import pytest

from valuestory.ingest.ingest import ingest
from valuestory.pipeline.run import run
from valuestory.pipeline.text import NOTE_KINDS, customer_spans
from valuestory.project import Project
from valuestory.stores.runs import RunStore

from .conftest import CORPUS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    project = Project(tmp_path_factory.mktemp("voice") / "p")
    project.create()
    ingest(project, [CORPUS])
    run(project, "offline")
    yield project, RunStore(project.ledger).latest(), {r.record_id: r for r in project.ledger.records()}
    project.ledger.close()


def customers_own(records, record_id: str, start: int, end: int) -> bool:
    record = records[record_id]
    return record.kind not in NOTE_KINDS and any(lo <= start and end <= hi for lo, hi in customer_spans(record))


def test_nothing_but_customers_own_words_is_shown_as_theirs(sample):
    _, reader, records = sample
    shown = []  # (where, record_id, start, end)
    for h in reader.stories.hypotheses:
        for group in (h.context, h.motivators):
            shown += [(f"story board {h.persona}/{h.decision}", s.span.record_id, s.span.start, s.span.end)
                      for v in group.values() for s in v if s.span]
        quoted = re.findall(r"“(.+?)”", h.explicit_story.split("their own words at this decision:")[-1])
        decisions = {d.quote: d for d in reader.journey.decisions if d.persona == h.persona and d.decision == h.decision}
        shown += [(f"explicit story {h.persona}/{h.decision}", decisions[q].record_id, decisions[q].start,
                   decisions[q].end) for q in quoted]
    for r in reader.roles.roles:
        shown += [(f"role {r.persona}/{r.phase}", q.record_id, q.start, q.end)
                  for q in r.supporting_quotes + r.undermining_quotes]
    for vm in reader.value_maps.maps:
        shown += [(f"empathy map {vm.persona}/{k}", s.record_id, s.start, s.end) for k, v in vm.empathy_map.items() for s in v]
        for job in vm.jobs:
            shown += [(f"job {vm.persona}/{job.job}", i.quote.record_id, i.quote.start, i.quote.end)
                      for i in job.high_points + job.friction]
    assert len(shown) > 100
    wrong = [(where, rid, records[rid].text[a:b]) for where, rid, a, b in shown if not customers_own(records, rid, a, b)]
    assert not wrong, f"{len(wrong)} of {len(shown)} are not the customer's own words, e.g. {wrong[:3]}"


def test_no_sentence_is_on_one_personas_board_twice(sample):
    _, reader, _ = sample
    boards: dict[str, list[str]] = {}
    for h in reader.stories.hypotheses:
        boards.setdefault(h.persona, []).extend(
            " ".join(s.text.lower().split()) for group in (h.context, h.motivators) for v in group.values() for s in v)
    assert boards and all(len(b) == len(set(b)) for b in boards.values())


def test_value_map_jobs_are_not_copies_of_each_other(sample):
    _, reader, _ = sample
    for vm in reader.value_maps.maps:
        columns = [(tuple(j.key_touchpoints), tuple(i.quote.text for i in j.friction), tuple(j.evidence)) for j in vm.jobs]
        assert len(columns) == len(set(columns)), vm.persona
