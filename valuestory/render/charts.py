"""Charts as inline SVG strings, drawn from the data: no script, print cleanly, and readable in
black and white (values are written on the chart, not only coloured). Every label passes
through `escape`: touchpoint names can come from customers' words."""

from __future__ import annotations

import math
from html import escape

from .numbers import signed

FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'
INK, GRID, MUTED = "#1f2933", "#d5dbe1", "#616e7c"
GOOD, BAD = "#2f855a", "#c0392b"  # highs and lows


def _svg(width: int, height: int, body: str, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'role="img" aria-label="{escape(title)}" {FONT} font-size="12"><title>{escape(title)}</title>{body}</svg>')


def _shade(value: float | None) -> str:
    """Functional performance 0..1 as a fill from light (often fails) to dark (does its job);
    grey when unknown. Darkness, not hue, so it survives black-and-white printing."""
    if value is None:
        return "#e4e7eb"
    level = int(235 - 180 * max(0.0, min(1.0, value)))
    return f"rgb({level},{level},{min(255, level + 20)})"


def emotion_curve(points: list[tuple[str, float, float, float | None, int]],
                  title: str = "Emotion across the journey") -> str:
    """Per phase, in journey order: (phase, share of positive mentions, share of negative
    mentions, mean sentiment or None, mentions). Highs rise above the line and lows fall below
    it, so a phase where delight and pain cancel in the mean still shows both; the curve joins
    the means. Each phase sits at the centre of its column, in line with the phase cards."""
    width, height, top, bottom, gutter = 1100, 190, 18, 34, 90
    plot_h = height - top - bottom
    column = (width - gutter) / max(1, len(points))
    bar = min(46.0, column / 4)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v + 1) / 2)
    body = [f'<line x1="{gutter}" x2="{width}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="{GRID}" stroke-dasharray="4 3"/>']
    for v, label in ((1, "all positive"), (0, "0 neutral"), (-1, "all negative")):
        body.append(f'<text x="{gutter - 8}" y="{y(v) + 4:.1f}" text-anchor="end" fill="{MUTED}" font-size="11">{label}</text>')
    coords = []
    for i, (phase, positive, negative, value, n) in enumerate(points):
        x = gutter + column * (i + 0.5)
        body.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" fill="{MUTED}" font-size="11">'
                    f'{escape(phase)}: {n} mention{"" if n == 1 else "s"}</text>')
        if n:
            body.append(f'<rect x="{x - bar - 4:.1f}" y="{y(positive):.1f}" width="{bar:.1f}" '
                        f'height="{y(0) - y(positive):.1f}" fill="{GOOD}" opacity="0.55"/>')
            body.append(f'<rect x="{x - bar - 4:.1f}" y="{y(0):.1f}" width="{bar:.1f}" '
                        f'height="{y(-negative) - y(0):.1f}" fill="{BAD}" opacity="0.55"/>')
            body.append(f'<text x="{x - bar / 2 - 4:.1f}" y="{y(positive) - 4:.1f}" text-anchor="middle" fill="{MUTED}" '
                        f'font-size="10">{positive:.0%}</text>')
            body.append(f'<text x="{x - bar / 2 - 4:.1f}" y="{y(-negative) + 12:.1f}" text-anchor="middle" '
                        f'fill="{MUTED}" font-size="10">{negative:.0%}</text>')
        if value is not None:
            coords.append((x + 8, y(value), value))
    if len(coords) > 1:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{yy:.1f}" for i, (x, yy, _) in enumerate(coords))
        body.append(f'<path d="{path}" fill="none" stroke="{INK}" stroke-width="2"/>')
    for x, yy, v in coords:
        fill = "#fff" if v < 0 else INK
        body.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="5" fill="{fill}" stroke="{INK}" stroke-width="2"/>')
        body.append(f'<text x="{x + 10:.1f}" y="{yy - 8:.1f}" fill="{INK}">mean {signed(v)}</text>')
    return _svg(width, height, "".join(body), title)


def impact_matrix(items: list[dict], title: str = "Emotional impact against business impact") -> str:
    """The 2×2: x = emotional impact, y = business impact, bubble area = mentions, fill =
    functional performance; each bubble carries its priority rank (the scorecard's #).
    items: touchpoint, rank, emotional, business, mentions, functional. The axes span the
    data (symmetric around neutral), so a cluster of mildly negative touchpoints spreads out."""
    width, height, left, right, top, bottom = 720, 440, 60, 30, 30, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    x_span = min(1.0, math.ceil((max([abs(i["emotional"]) for i in items] + [0.1]) + 0.05) * 10) / 10)
    y_max = min(1.0, math.ceil((max([i["business"] for i in items] + [0.05]) + 0.05) * 10) / 10)

    def x(v: float) -> float:
        return left + plot_w * (v + x_span) / (2 * x_span)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / y_max)
    body = [f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="{GRID}"/>',
            f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top}" y2="{top + plot_h}" stroke="{GRID}"/>',
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(y_max / 2):.1f}" y2="{y(y_max / 2):.1f}" stroke="{GRID}"/>']
    for text, tx, ty, anchor in (("Fix first: painful and costly", left + 6, top + 16, "start"),
                                 ("Protect: loved and valuable", left + plot_w - 6, top + 16, "end"),
                                 ("Annoyances", left + 6, top + plot_h - 8, "start"),
                                 ("Nice to have", left + plot_w - 6, top + plot_h - 8, "end")):
        body.append(f'<text x="{tx}" y="{ty}" text-anchor="{anchor}" fill="{MUTED}" font-style="italic">{text}</text>')
    for k in range(-2, 3):  # ticks: the ends, the halves and neutral
        v = x_span * k / 2
        body.append(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top + plot_h}" y2="{top + plot_h + 5}" stroke="{MUTED}"/>'
                    f'<text x="{x(v):.1f}" y="{top + plot_h + 18}" text-anchor="middle" fill="{MUTED}" '
                    f'font-size="11">{signed(v)}</text>')
    for k in range(round(y_max * 10) + 1):  # a tick every 0.1 of business impact
        v = k / 10
        body.append(f'<line x1="{left - 5}" x2="{left}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{MUTED}"/>'
                    f'<text x="{left - 8}" y="{y(v) + 4:.1f}" text-anchor="end" fill="{MUTED}" font-size="11">{v:.1f}</text>')
    body.append(f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle" fill="{INK}">'
                f'emotional impact (mean sentiment)</text>')
    body.append(f'<text x="14" y="{top + plot_h / 2}" text-anchor="middle" fill="{INK}" '
                f'transform="rotate(-90 14 {top + plot_h / 2})">business impact (0–1)</text>')
    biggest = max([i["mentions"] for i in items] + [1])
    radii = [6 + 16 * math.sqrt(i["mentions"] / biggest) for i in items]
    at = [(x(max(-x_span, min(x_span, i["emotional"]))), y(max(0.0, min(y_max, i["business"])))) for i in items]
    placed = _apart(at, radii, (left, top, left + plot_w, top + plot_h))
    for item, r, (ax, ay), (cx, cy) in sorted(zip(items, radii, at, placed, strict=True), key=lambda t: -t[1]):
        if math.dist((ax, ay), (cx, cy)) > 2:  # moved so that no bubble hides another: a line to where it is
            body.append(f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{cx:.1f}" y2="{cy:.1f}" stroke="{MUTED}" stroke-width="1"/>'
                        f'<circle cx="{ax:.1f}" cy="{ay:.1f}" r="2" fill="{MUTED}"/>')
        dark = (item["functional"] or 0) > 0.5
        body.append(f'<circle class="bubble" cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{_shade(item["functional"])}" '
                    f'stroke="{INK}" stroke-width="1"><title>{item.get("rank") or ""} '
                    f'{escape(item["touchpoint"])}: {item["mentions"]} mentions, emotional impact {signed(item["emotional"])}, '
                    f'business impact {item["business"]:.2f}</title></circle>')
        body.append(f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" font-weight="600" '
                    f'fill="{"#fff" if dark else INK}" font-size="11">{item.get("rank") or ""}</text>')
    return _svg(width, height, "".join(body), title)


GAP = 2.0  # pixels kept between two bubbles


def _apart(points: list[tuple[float, float]], radii: list[float], box: tuple[float, float, float, float],
           rounds: int = 400) -> list[tuple[float, float]]:
    """Bubble centres moved as little as needed for none to overlap another, inside the box:
    each overlapping pair pushed apart along the line between them, round after round."""
    pos = [list(p) for p in points]
    x0, y0, x1, y1 = box
    for _ in range(rounds):
        moved = False
        for i in range(len(pos)):
            for j in range(i + 1, len(pos)):
                dx, dy = pos[j][0] - pos[i][0], pos[j][1] - pos[i][1]
                dist = math.hypot(dx, dy)
                need = radii[i] + radii[j] + GAP
                if dist >= need:
                    continue
                if dist < 1e-6:  # the same spot: part them sideways, deterministically
                    dx, dy, dist = 1.0, 0.0, 1.0
                push = (need - dist) / 2 + 0.01
                ux, uy = dx / dist, dy / dist
                pos[i][0] -= ux * push
                pos[i][1] -= uy * push
                pos[j][0] += ux * push
                pos[j][1] += uy * push
                moved = True
        for k, r in enumerate(radii):
            pos[k][0] = min(max(pos[k][0], x0 + r), x1 - r)
            pos[k][1] = min(max(pos[k][1], y0 + r), y1 - r)
        if not moved:
            break
    return [(px, py) for px, py in pos]


def nps_drivers(items: list[dict], title: str = "NPS impact with 95% intervals") -> str:
    """A forest plot: per touchpoint, NPS points it costs or earns (overall NPS minus NPS
    without its mentioners), with the interval. items: touchpoint, value, low, high."""
    if not items:
        return ""
    row, left, right, top = 26, 250, 60, 30
    width = 720
    height = top + row * len(items) + 40
    span = max(1.0, *(abs(v) for i in items for v in (i["low"], i["high"]) if v is not None))
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + plot_w * (v + span) / (2 * span)
    body = [f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top - 10}" y2="{top + row * len(items)}" stroke="{MUTED}"/>',
            f'<text x="{x(-span):.1f}" y="{top - 14}" fill="{MUTED}">costs NPS points</text>',
            f'<text x="{x(span):.1f}" y="{top - 14}" text-anchor="end" fill="{MUTED}">earns NPS points</text>']
    for k, item in enumerate(items):
        cy = top + row * k + row / 2
        label = escape(_short(item["touchpoint"], 34))
        body.append(f'<text x="{left - 8}" y="{cy + 4:.1f}" text-anchor="end" fill="{INK}">{label}</text>')
        if item["low"] is not None and item["high"] is not None:
            body.append(f'<line x1="{x(item["low"]):.1f}" x2="{x(item["high"]):.1f}" y1="{cy:.1f}" y2="{cy:.1f}" '
                        f'stroke="{INK}" stroke-width="2"/>')
        body.append(f'<rect x="{x(item["value"]) - 4:.1f}" y="{cy - 4:.1f}" width="8" height="8" '
                    f'fill="{INK if item["value"] >= 0 else "#fff"}" stroke="{INK}" stroke-width="1.5"/>')
        body.append(f'<text x="{width - 8}" y="{cy + 4:.1f}" text-anchor="end" fill="{INK}">{signed(item["value"], 1)}</text>')
    body.append(f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle" fill="{MUTED}">'
                f'NPS points (square: estimate; bar: 95% bootstrap interval)</text>')
    return _svg(width, height, "".join(body), title)


def dumbbell(items: list[dict], before: str, after: str, title: str = "What changed") -> str:
    """Per touchpoint, emotional impact before (hollow) and after (filled), joined; a flagged
    change (its interval excludes 0) is drawn bold. items: touchpoint, before, after, flagged."""
    if not items:
        return ""
    row, left, right, top = 26, 250, 70, 34
    width = 720
    height = top + row * len(items) + 40
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + plot_w * (v + 1) / 2
    body = [f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top - 10}" y2="{top + row * len(items)}" stroke="{GRID}"/>',
            f'<text x="{left}" y="{top - 16}" fill="{MUTED}">○ {escape(before)}  ● {escape(after)}</text>']
    for k, item in enumerate(items):
        cy = top + row * k + row / 2
        weight, bold = ("3", ' font-weight="bold"') if item["flagged"] else ("1.2", "")
        body.append(f'<text x="{left - 8}" y="{cy + 4:.1f}" text-anchor="end" fill="{INK}"{bold}>'
                    f'{escape(_short(item["touchpoint"], 34))}</text>')
        body.append(f'<line x1="{x(item["before"]):.1f}" x2="{x(item["after"]):.1f}" y1="{cy:.1f}" y2="{cy:.1f}" '
                    f'stroke="{GOOD if item["after"] > item["before"] else BAD}" stroke-width="{weight}"/>')
        body.append(f'<circle cx="{x(item["before"]):.1f}" cy="{cy:.1f}" r="5" fill="#fff" stroke="{INK}"/>')
        body.append(f'<circle cx="{x(item["after"]):.1f}" cy="{cy:.1f}" r="5" fill="{INK}"/>')
        body.append(f'<text x="{width - 8}" y="{cy + 4:.1f}" text-anchor="end" fill="{INK}">'
                    f'{signed(item["after"] - item["before"])}</text>')
    body.append(f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle" fill="{MUTED}">'
                f'emotional impact (−1…+1); bold: the interval of the difference excludes 0</text>')
    return _svg(width, height, "".join(body), title)


def network(nodes: list[dict], edges: list[dict], phases: list[str], title: str = "Touchpoint network") -> str:
    """Touchpoints around a circle, grouped by the phase they sit in; lines for co-occurrence
    within records (width = records sharing both), arrows for the order within interviews;
    a double ring where decisions are made, a dashed ring where journeys break (churn).
    nodes: name, phase, mentions, sentiment, decisions, breaks. edges: a, b, weight, ordered."""
    width, height = 860, 600
    cx, cy, radius = width / 2, height / 2, 220
    ordered = sorted(nodes, key=lambda n: (phases.index(n["phase"]) if n["phase"] in phases else len(phases), -n["mentions"]))
    where = {}
    for k, n in enumerate(ordered):
        angle = -math.pi / 2 + 2 * math.pi * k / max(1, len(ordered))
        where[n["name"]] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle), angle)
    heaviest = max([e["weight"] for e in edges] + [1])
    body = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{MUTED}"/></marker></defs>']
    for e in sorted(edges, key=lambda e: e["weight"]):
        if e["a"] not in where or e["b"] not in where:
            continue
        (x1, y1, _), (x2, y2, _) = where[e["a"]], where[e["b"]]
        w = 0.6 + 5 * e["weight"] / heaviest
        if e.get("ordered"):
            body.append(f'<path d="M{x1:.1f},{y1:.1f} Q{cx:.1f},{cy:.1f} {x2:.1f},{y2:.1f}" fill="none" stroke="{MUTED}" '
                        f'stroke-width="{w:.1f}" stroke-opacity="0.7" marker-end="url(#arrow)"/>')
        else:
            body.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{GRID}" '
                        f'stroke-width="{w:.1f}"/>')
    biggest = max([n["mentions"] for n in nodes] + [1])
    for n in ordered:
        x, y, angle = where[n["name"]]
        r = 6 + 12 * math.sqrt(n["mentions"] / biggest)
        fill = "#fff" if n["sentiment"] < -0.15 else INK if n["sentiment"] > 0.15 else "#9aa5b1"
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}" stroke="{INK}" stroke-width="1.5">'
                    f'<title>{escape(n["name"])}: {n["mentions"]} mentions, sentiment {signed(n["sentiment"])}</title></circle>')
        if n["decisions"]:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r + 4:.1f}" fill="none" stroke="{INK}" stroke-width="1.5"/>')
        if n["breaks"]:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r + 8:.1f}" fill="none" stroke="{INK}" '
                        f'stroke-width="1.5" stroke-dasharray="3 3"/>')
        lx, ly = cx + (radius + r + 14) * math.cos(angle), cy + (radius + r + 14) * math.sin(angle)
        anchor = "start" if math.cos(angle) > 0.2 else "end" if math.cos(angle) < -0.2 else "middle"
        body.append(f'<text x="{lx:.1f}" y="{ly + 4:.1f}" text-anchor="{anchor}" fill="{INK}" font-size="11">'
                    f'{escape(_short(n["name"], 24))}</text>')
    return _svg(width, height, "".join(body), title)


def _short(name: str, limit: int = 20) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "…"
