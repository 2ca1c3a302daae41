"""Plain-text tables and lists that fit a terminal (80 columns when piped) without cutting
what a user must type.

Long cells are wrapped onto several lines instead of being cut with "…"; columns named in
``keep`` (parameter and metric names, which a user copies into a scenario file) are never
wrapped or shortened, even if the line then runs past the width. Used by ``welfare-sim
params``, ``metrics``, ``run`` and ``compare``; :func:`paragraph` wraps a line of prose
(``analyze``, ``demography``, ``municipality``).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from collections.abc import Sequence

DEFAULT_WIDTH = 80
GAP = "  "


def output_width(stream=None) -> int:
    """The terminal's width when ``stream`` (default stdout) is a terminal, else 80.

    ``COLUMNS`` overrides both (as in most command-line tools)."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) >= 20:
        return int(env)
    stream = sys.stdout if stream is None else stream
    try:
        if stream.isatty():
            return max(40, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    except (AttributeError, ValueError):
        pass
    return DEFAULT_WIDTH


def _wrap(text: str, width: int) -> list[str]:
    """Greedy wrap at spaces; a word longer than the width breaks after ``_ . - /`` (so
    ``indre_ostfold_`` / ``traditional``), and only as a last resort inside a run of letters."""
    lines: list[str] = []
    for para in str(text).split("\n"):
        line = ""
        for word in para.split(" "):
            chunks: list[str] = []
            for c in re.split(r"(?<=[_.\-/])", word) if len(word) > width else [word]:
                chunks += [c[i:i + width] for i in range(0, len(c), width)] or [""]
            for k, chunk in enumerate(chunks):
                sep = " " if k == 0 and line else ""
                if len(line) + len(sep) + len(chunk) <= width:
                    line += sep + chunk
                else:
                    lines.append(line)
                    line = chunk
        lines.append(line)
    return lines


def _column_widths(natural: list[int], keep: set[int], width: int, floor: int = 6) -> list[int]:
    """Shrink the wrappable columns (widest first) until the row fits ``width``."""
    widths = list(natural)
    budget = width - len(GAP) * (len(widths) - 1)
    while sum(widths) > budget:
        candidates = [i for i in range(len(widths)) if i not in keep and widths[i] > floor]
        if not candidates:
            break
        i = max(candidates, key=lambda k: widths[k])
        widths[i] -= 1
    return widths


def table_text(headers: Sequence[str], rows: Sequence[Sequence[object]],
               width: int | None = None, keep: Sequence[int] = (0,),
               right: Sequence[int] = (), title: str | None = None) -> str:
    """A table as text at most ``width`` columns wide (wrapping, never cutting).

    ``keep``: columns never wrapped (names to type); ``right``: right-aligned columns."""
    width = output_width() if width is None else width
    cells = [[str(h) for h in headers]] + [[("" if c is None else str(c)) for c in r]
                                           for r in rows]
    n = len(headers)
    keep_set = set(keep)
    natural = [max((len(line) for row in cells for line in row[i].split("\n")), default=0)
               for i in range(n)]
    widths = _column_widths(natural, keep_set, width)
    out: list[str] = []
    if title:
        out += _wrap(title, width)
    for k, row in enumerate(cells):
        wrapped = [[row[i]] if i in keep_set else _wrap(row[i], widths[i]) for i in range(n)]
        height = max(len(w) for w in wrapped)
        for j in range(height):
            parts = []
            for i in range(n):
                text = wrapped[i][j] if j < len(wrapped[i]) else ""
                parts.append(text.rjust(widths[i]) if i in right and k else text.ljust(widths[i]))
            out.append(GAP.join(parts).rstrip())
        if k == 0:
            out.append(GAP.join("-" * w for w in widths))
    return "\n".join(out)


def plain_list(items: Sequence[tuple[str, Sequence[str]]], width: int | None = None,
               indent: int = 4) -> str:
    """One entry per item: its name alone on a line (never cut), then its details, each
    wrapped at ``width`` and indented. Readable on a terminal and through a pipe."""
    width = output_width() if width is None else width
    pad = " " * indent
    out: list[str] = []
    for name, details in items:
        out.append(name)
        for d in details:
            if d:
                out += textwrap.wrap(d, width, initial_indent=pad, subsequent_indent=pad) or [pad]
    return "\n".join(out)


def paragraph(text: str, width: int | None = None, hang: int = 2) -> str:
    """One line of prose wrapped at ``width`` (the terminal, 80 when piped) at spaces only, so a
    parameter or metric name is never split; continuation lines indented by ``hang`` more than
    the first (a word longer than the width stays whole on its own line)."""
    width = output_width() if width is None else width
    lead = text[: len(text) - len(text.lstrip(" "))]
    return textwrap.fill(text.strip(" "), width, initial_indent=lead,
                         subsequent_indent=lead + " " * hang, break_long_words=False,
                         break_on_hyphens=False) or text


def number(v: float, sign: bool = False) -> str:
    """One number format for reports and tables: thousands separated, decimals by size, never
    scientific notation (121,681 · 1,183 · 52.4 · 0.873); "–" for a missing value."""
    if v is None or v != v:
        return "–"
    a = abs(v)
    spec = ",.0f" if a >= 1000 else ".1f" if a >= 100 else ".2f" if a >= 1 else ".3f"
    if a == 0:
        spec = ".0f"
    return format(v, ("+" if sign else "") + spec)


YEARLY_NOTE = "yearly means; flows (births, deaths, migration, hires, turnover, new processes " \
              "and ideas) are yearly sums"
