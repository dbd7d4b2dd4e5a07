"""The method, stage by stage. Each stage is a folder (two engines side by side) or a module:

1. mentions      — what each piece of customer text says about which touchpoint (verbatim quotes)
2. catalogue     — which touchpoints there are (discovered, or the user's codebook)
3. scores        — the four dimensions, priorities, fix-first and easy fixes, from the data
4. personas      — who the value stories are told for
   promises      — what customers were promised, beside what they later report
5. journey       — each mention's phase and stage, and the pivotal decisions between phases
6. stories       — sensemaking hypotheses per persona and pivotal decision
7. roles         — how well the company plays its role in each phase, per persona
8. opportunities — five improvement hypotheses for each touchpoint to fix first and easy fix
9. valuemap      — per persona: empathy map, jobs, outcomes, value gap, value promise

`contract` says what a stage is, `artefacts` what they hand each other, `run` runs them.
"""

from . import catalogue, journey, mentions, opportunities, personas, promises, roles, scores, stories, valuemap  # noqa: F401

METHOD = ("mentions", "catalogue", "scores", "personas", "promises", "journey", "stories", "roles", "opportunities", "valuemap")
