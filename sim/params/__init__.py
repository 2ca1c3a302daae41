"""The parameter registry: every model parameter declared once, with unit, range and source.

The registry is data (``registry.toml`` beside this file); :func:`registry` loads and checks it
once. Scenario files may override any entry by its dotted name; docs/parameters.md is generated
from it (``welfare-sim params --markdown``).
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REGISTRY_FILE = Path(__file__).with_name("registry.toml")
_REQUIRED = ("description", "unit", "default", "source")
_OPTIONAL = ("range", "choices", "distribution", "mode", "mean", "sd")
# how parameter-uncertainty draws (welfare-sim compare --uncertainty) sample a range parameter;
# without ``distribution`` a draw is uniform over ``range``
DISTRIBUTIONS = ("uniform", "triangular", "normal", "lognormal", "loguniform")
_DIST_KEYS = {"uniform": (), "triangular": ("mode",), "normal": ("mean", "sd"),
              "lognormal": ("mean", "sd"), "loguniform": ()}


@dataclass(frozen=True)
class Parameter:
    """One registry entry."""

    name: str
    description: str
    unit: str
    default: Any
    source: str
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    distribution: str | None = None  # None: uniform over the range
    mode: float | None = None  # triangular: the most likely value (default: ``default``)
    mean: float | None = None  # normal / lognormal: mean of the value (default: ``default``)
    sd: float | None = None  # normal / lognormal: standard deviation of the value

    @property
    def kind(self) -> type:
        """Python type of the value: bool, int, float or str."""
        return type(self.default)

    @property
    def group(self) -> str:
        return self.name.split(".")[0]

    @property
    def range_text(self) -> str:
        if self.choices:
            return " / ".join(str(c) for c in self.choices)
        if self.low is not None:
            return f"{self.low:g} – {self.high:g}"
        return "on / off" if self.kind is bool else "any"

    @property
    def distribution_text(self) -> str:
        """' (triangular, mode 0.2)' for a declared distribution, else ''."""
        d = self.distribution
        if d is None:
            return ""
        if d == "triangular":
            return f" ({d}, mode {self.mode:g})"
        if d in ("normal", "lognormal"):
            return f" ({d}, mean {self.mean:g}, sd {self.sd:g}, truncated to the range)"
        return f" ({d})"


def _flatten(table: dict, prefix: str = "") -> dict[str, dict]:
    """Registry entries are the tables that have a ``description`` key."""
    out: dict[str, dict] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            if "description" in value:
                out[name] = value
            else:
                out.update(_flatten(value, name))
    return out


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _distribution(name: str, entry: dict, low: float | None, high: float | None,
                  default: Any, where: str) -> dict[str, Any]:
    """Check the optional distribution keys of one entry; returns the Parameter fields."""
    dist = entry.get("distribution")
    given = [k for k in ("mode", "mean", "sd") if k in entry]
    if dist is None:
        if given:
            raise RuntimeError(f"{where}: parameter {name!r} has '{given[0]}' but no "
                               "distribution. Expected distribution = \"triangular\" (mode) or "
                               "\"normal\"/\"lognormal\" (mean, sd).")
        return {}
    if dist not in DISTRIBUTIONS:
        raise RuntimeError(f"{where}: parameter {name!r}, key 'distribution': got {dist!r}. "
                           f"Expected one of {', '.join(DISTRIBUTIONS)}.")
    if low is None or not _number(default):
        raise RuntimeError(f"{where}: parameter {name!r} has a distribution but no numeric "
                           "range. Expected range = [low, high] on a numeric parameter.")
    for k in given:
        if k not in _DIST_KEYS[dist]:
            raise RuntimeError(f"{where}: parameter {name!r}, key '{k}': not used by the "
                               f"{dist} distribution. Expected only "
                               f"{', '.join(_DIST_KEYS[dist]) or 'range'} with {dist}.")
        if not _number(entry[k]):
            raise RuntimeError(f"{where}: parameter {name!r}, key '{k}': got {entry[k]!r}. "
                               "Expected a number.")
    out: dict[str, Any] = {"distribution": dist}
    if dist == "triangular":
        mode = float(entry.get("mode", default))
        if not low <= mode <= high:
            raise RuntimeError(f"{where}: parameter {name!r}, key 'mode': {mode:g} is outside "
                               f"the range {low:g} – {high:g}. Expected a mode in the range.")
        out["mode"] = mode
    if dist in ("normal", "lognormal"):
        mean = float(entry.get("mean", default))
        if "sd" not in entry or not entry["sd"] > 0:
            raise RuntimeError(f"{where}: parameter {name!r}, key 'sd': got "
                               f"{entry.get('sd')!r}. Expected a standard deviation > 0.")
        if not low <= mean <= high:
            raise RuntimeError(f"{where}: parameter {name!r}, key 'mean': {mean:g} is outside "
                               f"the range {low:g} – {high:g}. Expected a mean in the range.")
        if dist == "lognormal" and not mean > 0:
            raise RuntimeError(f"{where}: parameter {name!r}, key 'mean': {mean:g}. Expected "
                               "a mean > 0 for a lognormal distribution.")
        out["mean"], out["sd"] = mean, float(entry["sd"])
    if dist == "lognormal" and low < 0:
        raise RuntimeError(f"{where}: parameter {name!r} is lognormal over {low:g} – "
                           f"{high:g}. Expected a range at or above 0.")
    if dist == "loguniform" and not low > 0:
        raise RuntimeError(f"{where}: parameter {name!r} is loguniform over {low:g} – "
                           f"{high:g}. Expected a range above 0.")
    return out


def parse_registry(raw: dict, where: str | Path = REGISTRY_FILE) -> dict[str, Parameter]:
    """Check registry entries (TOML data); raises RuntimeError naming the entry and key."""
    params: dict[str, Parameter] = {}
    for name, entry in _flatten(raw).items():
        missing = [k for k in _REQUIRED if k not in entry]
        if missing:
            raise RuntimeError(f"{where}: parameter {name!r} lacks {missing}")
        unknown = [k for k in entry if k not in (*_REQUIRED, *_OPTIONAL)]
        if unknown:
            raise RuntimeError(f"{where}: parameter {name!r} has unknown key {unknown[0]!r}. "
                               f"Expected only {', '.join((*_REQUIRED, *_OPTIONAL))}.")
        low = high = None
        if "range" in entry:
            low, high = entry["range"]
        choices = tuple(entry["choices"]) if "choices" in entry else None
        dist = _distribution(name, entry, low, high, entry["default"], str(where))
        p = Parameter(name, entry["description"], entry["unit"], entry["default"],
                      entry["source"], low, high, choices, **dist)
        if p.kind in (int, float) and p.low is None and not p.choices:
            raise RuntimeError(f"{where}: numeric parameter {name!r} has no range")
        params[name] = p
    return params


@cache
def registry() -> dict[str, Parameter]:
    """Load and check the registry (cached). Raises RuntimeError on a malformed entry."""
    return parse_registry(tomllib.loads(REGISTRY_FILE.read_text(encoding="utf-8")))


def defaults() -> dict[str, Any]:
    """All parameters at their default values."""
    return {name: p.default for name, p in registry().items()}


def suggest(name: str) -> str:
    """' Did you mean X?' for a near-miss parameter name, else ''."""
    close = difflib.get_close_matches(name, registry().keys(), n=1, cutoff=0.6)
    if not close:
        # also try the last component alone ("crowding" -> volunteers.motivation_crowding)
        leaf = name.rsplit(".", 1)[-1]
        close = [n for n in registry() if n.rsplit(".", 1)[-1] == leaf][:1]
    return f" Did you mean '{close[0]}'?" if close else ""


def markdown() -> str:
    """docs/parameters.md, generated from the registry."""
    lines = [
        "# Parameters",
        "",
        "Generated from `sim/params/registry.toml` by `welfare-sim params --markdown` — do not edit by hand.",
        "Money is NOK at fixed 2016 prices. Any parameter can be overridden in a scenario file under",
        "`[parameters]` by its dotted name, as a value or a dated series `{2016 = a, 2040 = b}`.",
        "",
    ]
    groups: dict[str, list[Parameter]] = {}
    for p in registry().values():
        groups.setdefault(p.group, []).append(p)
    for group, ps in groups.items():
        lines += [f"## {group}", "", "| name | description | unit | default | range | source |",
                  "|---|---|---|---|---|---|"]
        for p in ps:
            default = str(p.default).lower() if p.kind is bool else p.default
            lines.append(f"| `{p.name}` | {p.description} | {p.unit} | {default} | "
                         f"{p.range_text}{p.distribution_text} | {p.source} |")
        lines.append("")
    return "\n".join(lines)
