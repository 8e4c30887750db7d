"""An experiment at a glance, as SVG: CTR so far per candidate with its 95% interval (top)
and the traffic share each candidate got per period (bottom)."""

from xml.sax.saxutils import escape

COLOURS = ("#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#00798c")
WIDTH, LEFT, RIGHT = 760, 64, 16
CTR_TOP, CTR_HEIGHT = 40, 220
SHARE_TOP, SHARE_HEIGHT = 300, 80
LEGEND_TOP = 410


def render(results: dict) -> str:
    series, arms = results["series"], results["arms"]
    height = LEGEND_TOP + 22 * len(arms) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
             _title(results)]
    if not series:
        parts.append(f'<text x="{LEFT}" y="{CTR_TOP + 40}">No events counted yet.</text>')
    else:
        parts += _ctr_panel(series, len(arms)) + _share_panel(series, len(arms))
    parts += _legend(arms)
    parts.append("</svg>")
    return "\n".join(parts)


def _title(results: dict) -> str:
    experiment = results["experiment"]
    status = experiment.status.value + (f", {experiment.outcome.value}" if experiment.outcome else "")
    return f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold">Headline test ({status})</text>'


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * index / (count - 1) if count > 1 else span / 2)


def _ctr_panel(series: list[dict], arm_count: int) -> list[str]:
    values = [p["ctr_high"] for s in series for p in s["arms"] if p["ctr"] is not None]
    top = max([*values, 0.001]) * 1.1

    def y(value: float) -> float:
        return CTR_TOP + CTR_HEIGHT * (1 - min(value, top) / top)

    parts = [_axis(CTR_TOP, CTR_HEIGHT, f"{top:.1%}", "CTR so far (95% interval)")]
    for arm in range(arm_count):
        points = [(_x(i, len(series)), s["arms"][arm]) for i, s in enumerate(series)
                  if s["arms"][arm]["ctr"] is not None]
        if not points:
            continue
        band = [f"{x:.1f},{y(p['ctr_high']):.1f}" for x, p in points] + \
               [f"{x:.1f},{y(p['ctr_low']):.1f}" for x, p in reversed(points)]
        line = " ".join(f"{x:.1f},{y(p['ctr']):.1f}" for x, p in points)
        colour = COLOURS[arm % len(COLOURS)]
        parts.append(f'<polygon points="{" ".join(band)}" fill="{colour}" fill-opacity="0.15"/>')
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
    return parts


def _share_panel(series: list[dict], arm_count: int) -> list[str]:
    parts = [_axis(SHARE_TOP, SHARE_HEIGHT, "100%", "Traffic share per period")]
    width = (WIDTH - LEFT - RIGHT) / len(series)
    for index, period in enumerate(series):
        offset = 0.0
        for arm in range(arm_count):
            share = period["arms"][arm]["share"]
            parts.append(f'<rect x="{LEFT + index * width:.1f}" y="{SHARE_TOP + offset:.1f}" '
                         f'width="{max(width - 1, 0.5):.1f}" height="{share * SHARE_HEIGHT:.1f}" '
                         f'fill="{COLOURS[arm % len(COLOURS)]}"/>')
            offset += share * SHARE_HEIGHT
    return parts


def _axis(top: float, height: float, label: str, caption: str) -> str:
    bottom = top + height
    return (f'<line x1="{LEFT}" y1="{top}" x2="{LEFT}" y2="{bottom}" stroke="#888"/>'
            f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#888"/>'
            f'<text x="{LEFT - 6}" y="{top + 10}" text-anchor="end">{label}</text>'
            f'<text x="{LEFT - 6}" y="{bottom}" text-anchor="end">0</text>'
            f'<text x="{LEFT + 4}" y="{top - 6}" fill="#444">{caption}</text>')


def _legend(arms: list[dict]) -> list[str]:
    parts = []
    for index, arm in enumerate(arms):
        y = LEGEND_TOP + 22 * index
        tags = [" (winner)" if arm["is_winner"] else "", " (default)" if arm["is_default"] else ""]
        numbers = (f'{arm["ctr"]:.2%} CTR, {arm["impressions"]:,} impressions, '
                   f'P(best) {arm["probability_best"]:.0%}{"".join(tags)}')
        text = arm["text"] if len(arm["text"]) <= 70 else arm["text"][:69] + "\u2026"
        parts.append(f'<rect x="{LEFT}" y="{y - 10}" width="12" height="12" '
                     f'fill="{COLOURS[index % len(COLOURS)]}"/>')
        # Headlines may be right-to-left: isolate them so they cannot reorder the numbers.
        parts.append(f'<text x="{LEFT + 18}" y="{y}"><tspan style="unicode-bidi:isolate">'
                     f'{escape(text)}</tspan> \u2014 {escape(numbers)}</text>')
    return parts
