"""`valuestory run`: the synthesis stages in order, recorded as one run.

1. mentions  — what each piece of customer text says about which touchpoint (verbatim quotes)
2. catalogue — which touchpoints there are (discovered, or the user's codebook)
3. scores    — the four dimensions, priorities, fix-first and easy fixes, from the data
4. personas  — who the value stories are told for
5. journey   — each mention's phase and stage, and the pivotal decisions between phases
6. stories   — sensemaking hypotheses per persona and pivotal decision
7. roles     — how well the company plays its role in each phase, per persona
8. opportunities — five improvement hypotheses for each touchpoint to fix first and easy fix
9. value map — per persona: empathy map, jobs, outcomes, value gap, value promise
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from valuestory.project import Project
from valuestory.stores.embeddings import make_embedder

from .catalogue import build_offline, load_codebook
from .journey import Decision, detect_decisions, place
from .opportunities import hypotheses
from .personas import assign, personas_for
from .roles import assess_roles
from .sensemaking import hypotheses as sensemaking
from .valuemap import build_value_maps
from .library import TouchpointDef
from .mentions import OFFLINE_ENGINE, Mention
from .models import make_model
from .runner import Runner
from .scores import Scorecard, score


@dataclass
class RunResult:
    run_id: str
    engine: str
    model: str
    touchpoints: list[TouchpointDef]
    mentions: list[Mention]
    scorecard: Scorecard
    decisions: list[Decision]
    groundedness: float
    dropped_quotes: int
    calls: dict


def _inputs(project: Project) -> dict:
    rows = project.ledger.db.execute("SELECT record_id, content_hash FROM records ORDER BY record_id").fetchall()
    digest = hashlib.sha256("".join(f"{a}{b}" for a, b in rows).encode()).hexdigest()[:16]
    return {"records": len(rows), "hash": digest}


def run_synthesis(project: Project, llm: str = "offline", codebook: Path | None = None,
                  on_progress: Callable[[str, int, int], None] | None = None) -> RunResult:
    ledger = project.ledger
    records = list(ledger.records())
    codebook_defs = load_codebook(codebook) if codebook else None
    model = make_model(llm)
    engine = OFFLINE_ENGINE if model is None else "llm"
    run_id = f"run-{uuid.uuid4().hex[:12]}"
    from .llm_mentions import PROMPT_VERSIONS
    from .narrative import PROMPT_VERSIONS as NARRATIVE_VERSIONS
    prompts = {"engine": OFFLINE_ENGINE} if model is None else PROMPT_VERSIONS | NARRATIVE_VERSIONS
    ledger.start_run(run_id, engine, model.name if model else "", prompts, _inputs(project),
                     str(codebook) if codebook else None)
    try:
        embedder = make_embedder(project.config.store.embedding)
        embed = embedder.embed
        dropped = 0
        if model is None:
            if on_progress:
                on_progress("mentions", 0, len(records))
            touchpoints, mentions = build_offline(records, embed, codebook_defs)
            for m in mentions:  # what made it: the cue engine, over this embedding model
                m.model, m.prompt_version = embedder.name, OFFLINE_ENGINE
            if on_progress:
                on_progress("mentions", len(records), len(records))
        else:
            from .llm_mentions import llm_catalogue_and_mentions
            touchpoints, mentions, dropped = llm_catalogue_and_mentions(
                project, records, model, run_id, embed, codebook_defs, on_progress)
        card = score(mentions, records, touchpoints)
        persona_of = assign(records, personas_for(records, project.config.personas))
        placements = []
        for m in mentions:
            p = place(m.quote, m.touchpoint)
            placements.append((persona_of.get(m.record_id), p.phase, p.stage, p.purchase))
        decisions = detect_decisions(records, mentions, persona_of)
        roles = assess_roles([(pl[0], pl[1], m.touchpoint, m.sentiment, m.did_job)
                              for m, pl in zip(mentions, placements, strict=True)])
        targets = list(dict.fromkeys(card.fix_first + card.easy_fixes))
        stories = sensemaking(records, decisions)
        opportunities = {tp: hypotheses(tp, mentions) for tp in targets}
        drafted_jobs, engine_name = None, "offline draft"
        if model is not None:  # the model drafts what it can; the offline engine fills the rest
            from .evidence import Retriever
            from .narrative import draft_narratives
            retriever = Retriever(project.vectors, ledger, {r.record_id: r for r in records})
            runner = Runner(model, ledger, run_id, on_progress=on_progress)
            drafted, drafted_jobs, drafted_opps = draft_narratives(runner, retriever, records, mentions, decisions,
                                                                   persona_of, targets)
            told = {(h.persona, h.decision) for h in drafted}
            stories = drafted + [h for h in stories if (h.persona, h.decision) not in told]
            stories.sort(key=lambda h: (h.persona, h.decision))
            opportunities |= drafted_opps
            engine_name = f"llm draft ({model.name})"
        opportunities = [o for tp in targets for o in opportunities[tp]]
        outputs = [("roles", r.persona, r.model_dump_json()) for r in roles]
        outputs += [("stories", h.persona, h.model_dump_json()) for h in stories]
        outputs += [("opportunities", "", o.model_dump_json()) for o in opportunities]
        value_maps = build_value_maps(records, mentions, persona_of, touchpoints, opportunities, embed,
                                      drafted_jobs, engine_name)
        outputs += [("valuemap", v.persona, v.model_dump_json()) for v in value_maps]
        overall = {s.touchpoint: s for s in card.scores if s.scope == "overall"}
        rows = [(t.name, t.description, t.channel, t.owner, t.effort, t.origin,
                 overall[t.name].mentions if t.name in overall else 0,
                 overall[t.name].respondents if t.name in overall else 0) for t in touchpoints]
        shown = len(mentions)
        groundedness = shown / (shown + dropped) if shown + dropped else 1.0
        summary = {"mentions": shown, "dropped_quotes": dropped, "groundedness": round(groundedness, 4),
                   "fix_first": card.fix_first, "easy_fixes": card.easy_fixes, "overall_nps": card.overall_nps,
                   "touchpoints": len(touchpoints), "decisions": len(decisions)}
        ledger.finish_run(run_id, mentions, rows, card.scores, summary, placements, decisions, outputs)
    except BaseException as exc:
        ledger.fail_run(run_id, f"{type(exc).__name__}: {exc}")
        raise
    return RunResult(run_id, engine, model.name if model else OFFLINE_ENGINE, touchpoints, mentions, card,
                     decisions, groundedness, dropped, ledger.call_totals(run_id))
