"""The learned routine as a picture: an actogram, days down and the hours of the day across,
each five minutes coloured by the room where there was a sign of life, urgent alerts marked.

Made with matplotlib, an optional extra (``pip install 'hearth[picture]'``): the hub stays
light, and a technician's laptop draws it from a copy of the store or from a recording.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from agent.errors import HearthError

BIN_MIN = 5
BINS = 24 * 60 // BIN_MIN
# Where the grid sits in the figure (left, bottom, width, height, as figure fractions): fixed,
# so that a cell's pixel is known (the test reads the picture back at the cells of activity).
GRID = (0.07, 0.08, 0.74, 0.86)
WIDTH_IN, DPI = 12.0, 100
# Colours for rooms, in the order rooms are first named in the YAML (tab10 without its red,
# which marks alerts).
ROOM_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
ALERT_COLOUR = "#d62728"
BACKGROUND = "#ffffff"


@dataclass
class Actogram:
    days: list[date]
    rooms: list[str]
    # cells[day][bin]: the index in ``rooms`` + 1 of the room with a sign of life then, or 0.
    cells: list[list[int]]
    # (day index, bin, alert type) of each urgent alert, where it was raised.
    alerts: list[tuple[int, int, str]]


def grid(
    activity: Sequence[tuple[datetime, str]],
    alerts: Sequence[tuple[datetime, str]],
    rooms: Sequence[str],
    tz: ZoneInfo,
    last_days: int | None = None,
) -> Actogram:
    """``activity``: (when, room) of each sign of life; ``alerts``: (when raised, type).

    >>> from datetime import timezone
    >>> t = datetime(2024, 1, 1, 8, 2, tzinfo=timezone.utc)
    >>> g = grid([(t, "kitchen")], [], ["kitchen"], ZoneInfo("UTC"))
    >>> g.days, g.cells[0][96]
    ([datetime.date(2024, 1, 1)], 1)
    """
    local = [(at.astimezone(tz), room) for at, room in activity]
    if not local:
        raise HearthError("no sign of life to draw: no activity in the store or recording")
    first = min(at for at, _ in local).date()
    last = max(at for at, _ in local).date()
    if last_days is not None:
        first = max(first, last - timedelta(days=last_days - 1))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    index = {room: i + 1 for i, room in enumerate(rooms)}
    cells = [[0] * BINS for _ in days]
    for at, room in local:
        d = (at.date() - first).days
        if 0 <= d < len(days) and room in index:
            cells[d][(at.hour * 60 + at.minute) // BIN_MIN] = index[room]
    marked = []
    for at, kind in alerts:
        a = at.astimezone(tz)
        d = (a.date() - first).days
        if 0 <= d < len(days):
            marked.append((d, (a.hour * 60 + a.minute) // BIN_MIN, kind))
    return Actogram(days, list(rooms), cells, marked)


def draw(g: Actogram, path: str, title: str) -> None:
    """Write the actogram as a PNG at ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch
    except ImportError:
        raise HearthError(
            "the picture needs matplotlib, an optional extra: pip install 'hearth[picture]'"
        ) from None
    rows = len(g.days)
    height = max(3.0, 1.2 + 0.12 * rows)
    fig = plt.figure(figsize=(WIDTH_IN, height), dpi=DPI)
    ax = fig.add_axes(GRID)
    colours = [BACKGROUND, *(ROOM_COLOURS[i % len(ROOM_COLOURS)] for i in range(len(g.rooms)))]
    # Each cell a solid block: no smoothing, so a five minutes of activity keeps its colour.
    ax.imshow(
        g.cells,
        cmap=ListedColormap(colours),
        vmin=0,
        vmax=len(colours) - 1,
        aspect="auto",
        interpolation="nearest",
        extent=(0, 24, rows, 0),
    )
    if g.alerts:
        ax.scatter(
            [(b + 0.5) * BIN_MIN / 60 for _, b, _ in g.alerts],
            [d + 0.5 for d, _, _ in g.alerts],
            marker="v",
            s=60,
            color=ALERT_COLOUR,
            edgecolors="black",
            linewidths=0.5,
            zorder=3,
        )
    ax.set_xlim(0, 24)
    ax.set_ylim(rows, 0)
    ax.set_xticks(range(0, 25, 2))
    ax.set_xticklabels([f"{h:02d}:00" for h in range(0, 25, 2)], fontsize=7)
    step = max(1, rows // 30)
    ax.set_yticks([i + 0.5 for i in range(0, rows, step)])
    ax.set_yticklabels([g.days[i].strftime("%a %d %b") for i in range(0, rows, step)], fontsize=7)
    ax.set_title(title, fontsize=9)
    legend = [Patch(color=c, label=room) for c, room in zip(colours[1:], g.rooms, strict=True)]
    legend.append(Patch(color=ALERT_COLOUR, label="urgent alert"))
    fig.legend(handles=legend, loc="upper left", bbox_to_anchor=(0.82, 0.94), fontsize=8)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def cell_pixel(g: Actogram, day: int, bin_: int, height_px: int) -> tuple[int, int]:
    """The (row, column) pixel at the centre of a cell, in the PNG ``draw`` wrote."""
    left, bottom, width, height = GRID
    width_px = WIDTH_IN * DPI
    x = (left + width * (bin_ + 0.5) / BINS) * width_px
    y_from_bottom = (bottom + height * (1 - (day + 0.5) / len(g.days))) * height_px
    return int(height_px - y_from_bottom), int(x)
