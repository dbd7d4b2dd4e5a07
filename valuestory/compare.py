"""What changed: two runs, or two periods of one run by record date, compared as `valuestory
diff` and the workspace's comparison page show it."""

from __future__ import annotations

from datetime import date

from valuestory.errors import InputError
from valuestory.pipeline.changes import Changes, Side, compare, period_range, side_of, within
from valuestory.project import Project
from valuestory.stores.runs import RunReader, RunStore


def _side(reader: RunReader, label: str, records: list) -> Side:
    return side_of(label, records, reader.coding, reader.journey, reader.personas)


def changes_of(project: Project, runs: list[str], period: str | None, vs: str | None, since: str | None,
               run_id: str | None) -> Changes:
    """Two runs (`A B`), or two periods of one run (`--period P --vs Q`, or before and since
    `--since DATE`)."""
    if runs:
        if len(runs) != 2 or period or vs or since:
            raise InputError("give two runs (`diff A B`), or periods of one run (`--period 2026Q2 --vs 2026Q3`, "
                             "`--since 2026-07-01`)")
        a, b = (RunStore(project.ledger).get(r) for r in runs)
        records = list(project.ledger.records())  # read once: both runs read the same records
        return compare(_side(a, a.run_id, records), _side(b, b.run_id, records))
    store = RunStore(project.ledger)
    side = _side(store.get(run_id) if run_id else store.latest(), "", list(project.ledger.records()))
    try:
        if since:
            cut = date.fromisoformat(since)
            return compare(within(side, None, cut, f"before {since}"), within(side, cut, None, f"since {since}"))
        if period and vs:
            (a0, a1), (b0, b1) = period_range(period), period_range(vs)
            return compare(within(side, a0, a1, period), within(side, b0, b1, vs))
    except ValueError as exc:
        raise InputError(str(exc), hint="Periods are quarters (2026Q2), months (2026-07) or years; "
                                        "a date is written 2026-07-01") from None
    raise InputError("say what to compare: two runs (`diff A B`), `--period 2026Q2 --vs 2026Q3`, or `--since DATE`")
