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


@cache
def registry() -> dict[str, Parameter]:
    """Load and check the registry (cached). Raises RuntimeError on a malformed entry."""
    raw = tomllib.loads(REGISTRY_FILE.read_text(encoding="utf-8"))
    params: dict[str, Parameter] = {}
    for name, entry in _flatten(raw).items():
        missing = [k for k in _REQUIRED if k not in entry]
        if missing:
            raise RuntimeError(f"{REGISTRY_FILE}: parameter {name!r} lacks {missing}")
        low = high = None
        if "range" in entry:
            low, high = entry["range"]
        choices = tuple(entry["choices"]) if "choices" in entry else None
        p = Parameter(name, entry["description"], entry["unit"], entry["default"],
                      entry["source"], low, high, choices)
        if p.kind in (int, float) and p.low is None and not p.choices:
            raise RuntimeError(f"{REGISTRY_FILE}: numeric parameter {name!r} has no range")
        params[name] = p
    return params


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
                         f"{p.range_text} | {p.source} |")
        lines.append("")
    return "\n".join(lines)
