"""An experiment at a glance, as SVG: CTR so far per candidate with its 95% interval (top),
the traffic share each candidate got per period (middle), a time axis, and a legend with
each candidate's numbers, engaged share beside CTR.

With a single period the CTR panel draws a point with its interval (a line needs two),
and the share panel one bar. Headlines are cut with an ellipsis to fit the legend's width
and isolated for bidi, so an Arabic headline neither overflows nor reorders the numbers.
"""

from datetime import datetime
from xml.sax.saxutils import escape

COLOURS = ("#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#00798c")
WIDTH, LEFT, RIGHT = 760, 64, 16
SPAN = WIDTH - LEFT - RIGHT
CTR_TOP, CTR_HEIGHT = 56, 220
SHARE_TOP, SHARE_HEIGHT = 306, 80
AXIS_TOP = SHARE_TOP + SHARE_HEIGHT + 16
LEGEND_TOP = AXIS_TOP + 44
LEGEND_ROW = 36
CHAR_WIDTH = 7.2  # a generous average advance of 12px sans-serif, Latin or Arabic


def render(results: dict) -> str:
    series, arms = results["series"], results["arms"]
    height = LEGEND_TOP + LEGEND_ROW * len(arms) + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{WIDTH}" height="{height}" fill="white"/>', _title(results)]
    if not series:
        parts.append(f'<text x="{LEFT}" y="{CTR_TOP + 40}">No events counted yet.</text>')
    else:
        parts += _ctr_panel(series, len(arms)) + _share_panel(series, len(arms)) + _time_axis(series)
    parts += _legend(arms)
    parts.append("</svg>")
    return "\n".join(parts)


def _title(results: dict) -> str:
    experiment = results["experiment"]
    status = experiment.status.value + (f", {experiment.outcome.value}" if experiment.outcome else "")
    return (f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold">Headline test ({status}; '
            f'optimising {escape(results["metric"].replace("_", " "))})</text>')


def _x(index: int, count: int) -> float:
    """The centre of period ``index`` of ``count`` (periods are equal slots)."""
    return LEFT + SPAN * (index + 0.5) / count


def _ctr_panel(series: list[dict], arm_count: int) -> list[str]:
    values = [p["ctr_high"] for s in series for p in s["arms"] if p["ctr"] is not None]
    top = max([*values, 0.001]) * 1.1

    def y(value: float) -> float:
        return CTR_TOP + CTR_HEIGHT * (1 - min(value, top) / top)

    parts = [_axis(CTR_TOP, CTR_HEIGHT, f"{top:.1%}", "CTR so far (95% interval)")]
    for arm in range(arm_count):
        points = [(_x(i, len(series)), s["arms"][arm]) for i, s in enumerate(series)
                  if s["arms"][arm]["ctr"] is not None]
        colour = COLOURS[arm % len(COLOURS)]
        if len(points) == 1:  # a point and its interval
            x, p = points[0]
            x += (arm - (arm_count - 1) / 2) * 10  # side by side, so intervals do not overlap
            parts.append(f'<line x1="{x:.1f}" y1="{y(p["ctr_low"]):.1f}" x2="{x:.1f}" '
                         f'y2="{y(p["ctr_high"]):.1f}" stroke="{colour}" stroke-width="2"/>')
            parts.append(f'<circle cx="{x:.1f}" cy="{y(p["ctr"]):.1f}" r="4" fill="{colour}"/>')
        elif points:
            band = [f"{x:.1f},{y(p['ctr_high']):.1f}" for x, p in points] + \
                   [f"{x:.1f},{y(p['ctr_low']):.1f}" for x, p in reversed(points)]
            line = " ".join(f"{x:.1f},{y(p['ctr']):.1f}" for x, p in points)
            parts.append(f'<polygon points="{" ".join(band)}" fill="{colour}" fill-opacity="0.15"/>')
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
    return parts


def _share_panel(series: list[dict], arm_count: int) -> list[str]:
    parts = [_axis(SHARE_TOP, SHARE_HEIGHT, "100%", "Traffic share per period")]
    width = SPAN / len(series)
    for index, period in enumerate(series):
        offset = 0.0
        for arm in range(arm_count):
            share = period["arms"][arm]["share"]
            parts.append(f'<rect x="{LEFT + index * width:.1f}" y="{SHARE_TOP + offset:.1f}" '
                         f'width="{max(width - 1, 0.5):.1f}" height="{share * SHARE_HEIGHT:.1f}" '
                         f'fill="{COLOURS[arm % len(COLOURS)]}"/>')
            offset += share * SHARE_HEIGHT
    return parts


def _time_axis(series: list[dict]) -> list[str]:
    """Period start times (UTC) under the panels: the first, the last, and one between."""
    count = len(series)
    starts = [s["period_start"] for s in series]
    dated = starts[0].date() != starts[-1].date()
    parts = [f'<text x="{WIDTH - RIGHT}" y="{AXIS_TOP + 16}" text-anchor="end" fill="#444">'
             'Period start (UTC)</text>']
    for index in sorted({0, count // 2, count - 1}):
        parts.append(f'<text x="{_x(index, count):.1f}" y="{AXIS_TOP}" text-anchor="middle">'
                     f'{_clock(starts[index], dated)}</text>')
    return parts


def _clock(when: datetime, dated: bool) -> str:
    return when.strftime("%d %b %H:%M" if dated else "%H:%M")


def _axis(top: float, height: float, label: str, caption: str) -> str:
    bottom = top + height
    return (f'<line x1="{LEFT}" y1="{top}" x2="{LEFT}" y2="{bottom}" stroke="#888"/>'
            f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#888"/>'
            f'<text x="{LEFT - 6}" y="{top + 10}" text-anchor="end">{label}</text>'
            f'<text x="{LEFT - 6}" y="{bottom}" text-anchor="end">0</text>'
            f'<text x="{LEFT + 4}" y="{top - 6}" fill="#444">{caption}</text>')


def fit(text: str, width: float) -> str:
    """The text, cut with an ellipsis to fit ``width`` pixels at the legend's font size."""
    limit = max(int(width / CHAR_WIDTH), 1)
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "\u2026"


def _legend(arms: list[dict]) -> list[str]:
    parts = []
    for index, arm in enumerate(arms):
        y = LEGEND_TOP + LEGEND_ROW * index
        parts.append(f'<rect x="{LEFT}" y="{y - 10}" width="12" height="12" '
                     f'fill="{COLOURS[index % len(COLOURS)]}"/>')
        # Headlines may be right-to-left: isolate them so they cannot reorder anything else.
        parts.append(f'<text x="{LEFT + 18}" y="{y}"><title>{escape(arm["text"])}</title>'
                     f'<tspan style="unicode-bidi:isolate">{escape(fit(arm["text"], SPAN - 18))}'
                     f'</tspan></text>')
        parts.append(f'<text x="{LEFT + 18}" y="{y + 15}" fill="#444">{escape(_numbers(arm))}</text>')
    return parts


def _numbers(arm: dict) -> str:
    tags = [tag for tag, on in (("winner", arm["is_winner"]), ("default", arm["is_default"]),
                                ("dropped", arm["dropped_reason"])) if on]
    engaged = f'{arm["engaged_share"]:.0%} engaged' if arm["engaged_share"] is not None else "no clicks yet"
    return (f'{arm["ctr"]:.2%} CTR, {engaged}, {arm["impressions"]:,} impressions, '
            f'P(best) {arm["probability_best"]:.0%}' + (f' ({", ".join(tags)})' if tags else ""))
