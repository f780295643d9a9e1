"""The daily check-ins as a trend: what templates/_trend.html draws as a small SVG chart (pain, sleep and energy over
the last 14 or 30 days, the days each lifestyle area was tried marked under it) and writes out as a table.

Plain numbers for a template: no script, no third-party code. The chart is an image with a text summary; the table
holds every number for screen readers and print.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable, Sequence

from assistant.engine.checkins import Entry


def N_(text: str) -> str:
    """Marks a word for the gettext catalogs; the template says it in the page's language."""
    return text


Say = Callable[..., str]  # gettext: a sentence template and its values, in the page's language


def english(template: str, **values: object) -> str:
    return template % values if values else template


SHORT, LONG = 14, 30  # days shown: two weeks while the diary is young, then a month
# (score id, label, stroke, dash pattern): told apart by line style as well as colour, so print and every eye work
SERIES = (("pain", N_("Pain"), "#b3261e", ""), ("sleep", N_("Sleep"), "#1d4ed8", "6 3"),
          ("energy", N_("Energy"), "#15803d", "2 3"))
WIDTH, LEFT, RIGHT, TOP, PLOT = 320, 24, 6, 8, 96  # the SVG's user units (it scales to the page)
FLAT = 20  # a compact chart (the handout's, beside the notes): a flat plot, no dates under it, no areas
AREA_ROW, AREA_GAP = 22, 30  # each lifestyle area: its name, then a mark on each day it was tried


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int
    day: date


@dataclass(frozen=True)
class Line:
    id: str
    label: str
    stroke: str
    dash: str
    points: tuple[Point, ...]

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Area:
    id: str
    label: str
    y: float
    marks: tuple[float, ...]

    @property
    def count(self) -> int:
        return len(self.marks)


@dataclass(frozen=True)
class Trend:
    start: date
    end: date
    days: int
    entries: tuple[Entry, ...]
    lines: tuple[Line, ...] = ()
    areas: tuple[Area, ...] = ()
    ticks: tuple[tuple[float, date], ...] = ()
    summary: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # lifestyle area id -> its name
    plot: int = PLOT
    compact: bool = False

    @property
    def grid(self) -> tuple[tuple[float, int], ...]:
        return tuple((_y(v, self.plot), v) for v in (0, 5, 10))

    @property
    def width(self) -> int:
        return WIDTH

    @property
    def height(self) -> float:
        if self.compact:
            return self.axis + 4
        return self.axis + (AREA_GAP - 6 + AREA_ROW * len(self.areas) if self.areas else 16)

    @property
    def axis(self) -> int:
        return TOP + self.plot

    @property
    def left(self) -> int:
        return LEFT

    @property
    def right(self) -> int:
        return WIDTH - RIGHT


def _x(day: date, start: date, days: int) -> float:
    step = (WIDTH - LEFT - RIGHT) / days
    return LEFT + ((day - start).days + 0.5) * step


def _y(value: int, plot: int = PLOT) -> float:
    return TOP + plot * (10 - value) / 10


# The summary line's sentences (said through gettext in the page's language)
ONE_DAY = N_("Pain %(first)s on 1 day")
OVER_DAYS = N_("Pain %(first)s → %(last)s over %(days)s days")
TRIED_THAT_DAY = N_("%(pain)s; %(areas)s tried")
TRIED_ON = N_("%(area)s tried on %(count)s of them")
ALSO_ON = N_("%(area)s on %(count)s")


def summary_line(entries: Sequence[Entry], name: Callable[[str], str], areas: int = 2, say: Say = english) -> str:
    """One line a clinician reads at a glance: "Pain 7 → 4 over 12 days; pacing tried on 9 of them"."""
    scored = [e for e in entries if e.scores.get("pain") is not None]
    if not scored:
        return ""
    first, last = scored[0].scores["pain"], scored[-1].scores["pain"]
    days = len(entries)
    pain = say(ONE_DAY, first=first) if days == 1 else say(OVER_DAYS, first=first, last=last, days=days)
    tried: dict[str, int] = {}
    for entry in entries:
        for area in entry.tried:
            tried[area] = tried.get(area, 0) + 1
    top = sorted(tried.items(), key=lambda item: -item[1])[:areas]
    if not top:
        return pain
    if days == 1:
        return say(TRIED_THAT_DAY, pain=pain, areas=", ".join(name(area) for area, _ in top))
    parts = [say(TRIED_ON, area=name(area), count=count) if i == 0 else say(ALSO_ON, area=name(area), count=count)
             for i, (area, count) in enumerate(top)]
    return f"{pain}; {', '.join(parts)}"


def build(entries: Sequence[Entry], area_label: Callable[[str], str], today: date,
          summary_name: Callable[[str], str] | None = None, compact: bool = False, say: Say = english) -> Trend:
    """The trend of the check-ins up to `today`: 14 days while they all fit in two weeks, else 30. `area_label`
    names the lifestyle areas in the table, `summary_name` in the summary line and on the chart (short names).
    `compact`: a flat chart without dates or areas, and one area in the line (the handout)."""
    plot = FLAT if compact else PLOT
    recent = tuple(e for e in entries if today - timedelta(days=LONG) < e.day <= today)
    days = SHORT if all(today - timedelta(days=SHORT) < e.day for e in recent) else LONG
    start = today - timedelta(days=days - 1)
    shown = tuple(e for e in recent if e.day >= start)
    if not shown:
        return Trend(start=start, end=today, days=days, entries=(), plot=plot, compact=compact)
    lines = tuple(Line(score, label, stroke, dash,
                       tuple(Point(_x(e.day, start, days), _y(e.scores[score], plot), e.scores[score], e.day)
                             for e in shown if e.scores.get(score) is not None))
                  for score, label, stroke, dash in SERIES)
    counts: dict[str, int] = {}
    for area in (area for e in shown for area in e.tried):
        counts[area] = counts.get(area, 0) + 1
    tried = [] if compact else sorted(counts, key=lambda area: -counts[area])  # the most tried first
    name = summary_name or area_label
    areas = tuple(Area(area, name(area), TOP + plot + AREA_GAP + AREA_ROW * i,
                       tuple(_x(e.day, start, days) for e in shown if area in e.tried))
                  for i, area in enumerate(tried))
    ticks = tuple((_x(day, start, days), day) for day in (start, start + timedelta(days=days // 2), today))
    return Trend(start=start, end=today, days=days, entries=shown, lines=lines, areas=areas, ticks=ticks,
                 summary=summary_line(shown, name, areas=1 if compact else 2, say=say),
                 labels={area: area_label(area) for area in counts}, plot=plot, compact=compact)
