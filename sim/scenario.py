"""Scenario files: TOML data (never executed) that override registry parameters.

A scenario may ``extends = "other.toml"`` (resolved next to the file, no escaping its folder
or the bundled ``scenarios/`` folder), set ``seed``, a ``paradigm`` (a name, a switch or a
phase-in, or a mix), and any registry parameter either as a table (``[cocreation]
thick_share = 0.6``) or a dotted key (``"cocreation.thick_share" = 0.6``). A numeric value may
be a dated series ``{2016 = 0.1, 2030 = 0.3}``: linear in between, flat outside.
Every problem raises :class:`sim.errors.InputError` naming the file and the key.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import InputError, Problems
from sim.params import Parameter, defaults, registry, suggest
from sim.safety import MAX_DEPTH, check_name, check_structure, read_input_file

PARADIGMS = ("traditional", "npm", "network_governance")
_ALIASES = {"ng": "network_governance", "network": "network_governance",
            "co-creation": "network_governance", "cocreation": "network_governance",
            "samskaping": "network_governance", "new_public_management": "npm",
            "nmp": "npm", "trad": "traditional", "tradition": "traditional"}
_TOP_KEYS = ("name", "description", "extends", "seed", "paradigm", "parameters")
BUNDLED_DIR = Path(__file__).resolve().parent.parent / "scenarios"
MUNICIPALITY_DIR = Path(__file__).resolve().parent / "data" / "municipalities"
MAX_EXTENDS_DEPTH = 16


def _fail(path: Path | str, key: str | None, what: str, expected: str) -> InputError:
    where = f"{path}" + (f", key '{key}'" if key else "")
    stop = "" if what.endswith((".", "?", "!")) else "."
    return InputError(f"{where}: {what}{stop} Expected {expected}.")


@dataclass(frozen=True)
class DatedSeries:
    """A value that changes over time: {year: value}, linear between years, flat outside."""

    years: tuple[int, ...]
    values: tuple[Any, ...]

    def at(self, year: float) -> Any:
        v0 = self.values[0]
        if isinstance(v0, bool) or isinstance(v0, str):
            idx = max(0, int(np.searchsorted(self.years, year, side="right")) - 1)
            return self.values[idx]
        value = float(np.interp(year, self.years, self.values))
        return round(value) if isinstance(v0, int) else value

    def to_toml(self) -> dict[str, Any]:
        return {str(y): v for y, v in zip(self.years, self.values, strict=True)}


@dataclass(frozen=True)
class ParadigmSchedule:
    """Weights of the three paradigms over time (they always sum to 1)."""

    start_mix: tuple[float, float, float]
    end_mix: tuple[float, float, float]
    start_year: float = 0.0
    end_year: float = 0.0

    @classmethod
    def single(cls, name: str) -> ParadigmSchedule:
        mix = tuple(1.0 if p == name else 0.0 for p in PARADIGMS)
        return cls(mix, mix)

    def weights(self, year: float) -> np.ndarray:
        """Paradigm weights at a (fractional) year; a switch when start_year == end_year."""
        a, b = np.asarray(self.start_mix), np.asarray(self.end_mix)
        if year < self.start_year:
            return a
        if year >= self.end_year:
            return b
        f = (year - self.start_year) / (self.end_year - self.start_year)
        return (1 - f) * a + f * b

    def describe(self) -> str:
        def name(mix):
            parts = [f"{p} {w:.0%}" for p, w in zip(PARADIGMS, mix, strict=True) if w > 0]
            return parts[0].rsplit(" ", 1)[0] if len(parts) == 1 else " + ".join(parts)
        if self.start_mix == self.end_mix:
            return name(self.start_mix)
        if self.start_year == self.end_year:
            return f"{name(self.start_mix)} → {name(self.end_mix)} in {self.start_year:g}"
        return (f"{name(self.start_mix)} → {name(self.end_mix)} "
                f"phased {self.start_year:g}–{self.end_year:g}")


@dataclass
class Scenario:
    """A resolved scenario: every registry parameter has a value (or a dated series)."""

    name: str
    path: Path | None
    params: dict[str, Any]
    paradigm: ParadigmSchedule
    seed: int = 1
    description: str = ""
    text: str = ""  # source text of the file and every file it extends, in order
    chain: list[str] = field(default_factory=list)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]

    def value(self, name: str, year: float | None = None) -> Any:
        v = self.params[name]
        if isinstance(v, DatedSeries):
            return v.at(year if year is not None else self.params["run.start_year"])
        return v

    def at_year(self, year: float) -> dict[str, Any]:
        """All parameter values in force in ``year``."""
        return {k: (v.at(year) if isinstance(v, DatedSeries) else v)
                for k, v in self.params.items()}

    def with_overrides(self, overrides: dict[str, Any], source: str = "overrides") -> Scenario:
        """A copy with parameters replaced (validated like a scenario file)."""
        params = dict(self.params)
        paradigm = self.paradigm
        for key, value in overrides.items():
            if key == "paradigm":
                paradigm = parse_paradigm(value, source)
                continue
            params[key] = _check_value(source, key, value)
        _check_cross(source, params)
        extra = "\n# overrides\n" + "\n".join(f"{k} = {v!r}" for k, v in sorted(overrides.items()))
        return Scenario(self.name, self.path, params, paradigm, self.seed, self.description,
                        self.text + extra, self.chain)

    def resolved_toml(self) -> dict[str, Any]:
        """Resolved parameters as plain data (for manifests)."""
        out = {k: (v.to_toml() if isinstance(v, DatedSeries) else v)
               for k, v in sorted(self.params.items())}
        return {"name": self.name, "seed": self.seed, "paradigm": self.paradigm.describe(),
                "parameters": out}


def default_scenario(paradigm: str = "traditional", **overrides: Any) -> Scenario:
    """A scenario with every registry default, for tests and the API."""
    base = Scenario("defaults", None, defaults(), ParadigmSchedule.single(paradigm),
                    text=f"# defaults, paradigm {paradigm}")
    return base.with_overrides(overrides) if overrides else base


# ------------------------------------------------------------------ value checks
def _type_name(t: type) -> str:
    return {bool: "true/false", int: "a whole number", float: "a number", str: "a text"}[t]


def _check_scalar(path, key: str, p: Parameter, value: Any) -> Any:
    kind = p.kind
    if kind is bool:
        if not isinstance(value, bool):
            raise _fail(path, key, f"got {value!r} ({type(value).__name__})", "true or false")
        return value
    if kind is str or p.choices and isinstance(p.default, str):
        if not isinstance(value, str):
            raise _fail(path, key, f"got {value!r}", f"a text{_choices(p)}")
    elif kind is int:
        if isinstance(value, bool) or not (isinstance(value, int) or
                                           (isinstance(value, float) and value.is_integer())):
            raise _fail(path, key, f"got {value!r} ({type(value).__name__})",
                        f"{_type_name(int)} in {p.range_text} {p.unit}")
        value = int(value)
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(path, key, f"got {value!r} ({type(value).__name__})",
                        f"{_type_name(float)} in {p.range_text} {p.unit}")
        try:
            value = float(value)
        except OverflowError:
            raise _fail(path, key, f"a number of {len(str(value)):,} digits",
                        f"a finite number in {p.range_text} {p.unit}") from None
        if not np.isfinite(value):
            raise _fail(path, key, f"got {value!r}", f"a finite number in {p.range_text}")
    if p.choices and value not in p.choices:
        raise _fail(path, key, f"got {value!r}", f"one of {', '.join(map(str, p.choices))}")
    if p.low is not None and not (p.low <= value <= p.high):
        raise _fail(path, key, f"{value!r} is outside the plausible range",
                    f"a value in {p.range_text} {p.unit} (see docs/parameters.md)")
    return value


def _choices(p: Parameter) -> str:
    return f" (one of {', '.join(map(str, p.choices))})" if p.choices else ""


def _check_value(path, key: str, value: Any) -> Any:
    reg = registry()
    if key not in reg:
        raise _fail(path, key, "unknown parameter." + suggest(key),
                    "a name from the parameter registry (welfare-sim params)")
    p = reg[key]
    if isinstance(value, DatedSeries):
        return value
    if isinstance(value, dict):
        if not value:
            raise _fail(path, key, "empty dated series", "{YEAR = value, ...}")
        years, values = [], []
        for y, v in value.items():
            try:
                year = int(y)
            except (TypeError, ValueError):
                raise _fail(path, key, f"dated series has key {y!r} that is not a year",
                            "{YEAR = value, ...} with years like 2016") from None
            if not 1900 <= year <= 2300:
                raise _fail(path, key, f"dated series year {year} is out of range",
                            "years between 1900 and 2300")
            years.append(year)
            values.append(_check_scalar(path, f"{key}.{y}", p, v))
        order = np.argsort(years)
        return DatedSeries(tuple(years[i] for i in order), tuple(values[i] for i in order))
    if isinstance(value, list):
        raise _fail(path, key, f"got a list {value!r}",
                    "a single value or a dated series {YEAR = value}")
    return _check_scalar(path, key, p, value)


def _check_cross(path, params: dict[str, Any]) -> None:
    """Checks that involve several parameters."""
    start, end = params["run.start_year"], params["run.end_year"]
    for key in ("run.start_year", "run.end_year", "run.municipality",
                "demography.projection_round", "demography.alternative", "run.population_scale"):
        if isinstance(params[key], DatedSeries):
            raise _fail(path, key, "this parameter cannot change over time", "a single value")
    if end < start:
        raise _fail(path, "run.end_year", f"end year {end} is before start year {start}",
                    "an end year on or after the start year")
    rnd = params["demography.projection_round"]
    if start != rnd:
        raise _fail(path, "run.start_year",
                    f"start year {start} does not match projection round {rnd}",
                    f"run.start_year = {rnd} (a run starts in its projection round's base year)")
    if rnd == 2020 and params["demography.alternative"] != "MMMM":
        raise _fail(path, "demography.alternative",
                    f"the 2020 round carries MMMM only, got {params['demography.alternative']!r}",
                    "MMMM with projection_round = 2020")
    munis = available_municipalities()
    if params["run.municipality"] not in munis:
        from sim.demography.data import _resolve_parts

        try:
            _resolve_parts(str(params["run.municipality"]))
        except InputError as exc:
            raise _fail(path, "run.municipality", f"no base population for "
                        f"{params['run.municipality']!r} ({exc})",
                        f"one of {', '.join(munis)}, a municipality number or name imported "
                        "with `welfare-sim municipality import` or `fetch`, or a path to a "
                        ".csv file") from None
    years = _base_years(params["run.municipality"])
    if years and start not in years:  # else the run would fail only after loading
        raise _fail(path, "run.start_year", f"the base population of "
                    f"{params['run.municipality']!r} has no year {start} (it has "
                    f"{', '.join(map(str, years))})",
                    "a start year (and projection round) the municipality file covers, or "
                    "run.municipality = \"norway\" for the 2020 round")


@functools.cache
def _base_years(name: str) -> tuple[int, ...]:
    """Years of a base-population file (empty if it cannot be read: the loader says why)."""
    from sim.demography.data import _data_rows, _resolve_parts

    try:
        common: set[int] | None = None
        for p in _resolve_parts(name):
            ys = {int(float(r["year"])) for r in _data_rows(p)}
            common = ys if common is None else common & ys
        return tuple(sorted(common or ()))
    except (InputError, KeyError, TypeError, ValueError):
        return ()


def available_municipalities() -> list[str]:
    """Names of the base-population files in sim/data/municipalities."""
    names = set()
    for p in MUNICIPALITY_DIR.glob("*.csv"):
        names.add(p.stem)
        names.add(re.sub(r"_\d+$", "", p.stem))  # indre_ostfold_3014 -> indre_ostfold
    return sorted(names)


# ------------------------------------------------------------------ paradigm
def parse_paradigm(value: Any, path) -> ParadigmSchedule:
    def name(v, key):
        if not isinstance(v, str) or v not in PARADIGMS:
            hint = ""
            if isinstance(v, str) and v.lower().replace("-", "_") in _ALIASES:
                hint = f" Did you mean '{_ALIASES[v.lower().replace('-', '_')]}'?"
            elif isinstance(v, str) and v.lower() in PARADIGMS:
                hint = f" Did you mean '{v.lower()}'?"
            elif isinstance(v, str):
                import difflib
                close = difflib.get_close_matches(v.lower(), [*PARADIGMS, *_ALIASES], n=1)
                if close:
                    hint = f" Did you mean '{_ALIASES.get(close[0], close[0])}'?"
            raise _fail(path, key, f"unknown paradigm {v!r}.{hint}".rstrip("."),
                        "one of traditional, npm, network_governance")
        return v

    def mix(v, key):
        if isinstance(v, str):
            return ParadigmSchedule.single(name(v, key)).start_mix
        if not isinstance(v, dict) or not v:
            raise _fail(path, key, f"got {v!r}", "a paradigm name or a table of weights")
        w = []
        for k in v:
            name(k, f"{key}.{k}")
        for p in PARADIGMS:
            x = v.get(p, 0.0)
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 <= x <= 1:
                raise _fail(path, f"{key}.{p}", f"weight {x!r}", "a number between 0 and 1")
            w.append(float(x))
        if abs(sum(w) - 1.0) > 1e-6:
            raise _fail(path, key, f"weights sum to {sum(w):g}", "weights that sum to 1")
        return tuple(w)

    if isinstance(value, str):
        return ParadigmSchedule.single(name(value, "paradigm"))
    if not isinstance(value, dict):
        raise _fail(path, "paradigm", f"got {value!r}",
                    "a paradigm name, or a table with from/to/start/end, or a mix table")
    allowed = {"from", "to", "start", "end", "mix", "year"}
    for k in value:
        if k not in allowed:
            raise _fail(path, f"paradigm.{k}", "unknown key",
                        "from, to, start, end (or year for a switch), or mix")
    if "mix" in value:
        m = mix(value["mix"], "paradigm.mix")
        return ParadigmSchedule(m, m)
    if "from" not in value or "to" not in value:
        raise _fail(path, "paradigm", "a transition needs both 'from' and 'to'",
                    "from = \"npm\", to = \"network_governance\", start = 2025, end = 2035")
    a, b = mix(value["from"], "paradigm.from"), mix(value["to"], "paradigm.to")
    if "year" in value:
        start = end = value["year"]
    else:
        start, end = value.get("start"), value.get("end", value.get("start"))
    for k, y in (("start", start), ("end", end)):
        if isinstance(y, bool) or not isinstance(y, int) or not 1900 <= y <= 2300:
            raise _fail(path, f"paradigm.{k}", f"got {y!r}", "a year such as 2025")
    if end < start:
        raise _fail(path, "paradigm.end", f"end {end} is before start {start}",
                    "an end year on or after the start year")
    return ParadigmSchedule(a, b, float(start), float(end))


# ------------------------------------------------------------------ loading
def _flatten_params(path, table: dict, prefix: str, out: dict[str, Any]) -> None:
    reg = registry()
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and name not in reg and not all(
                str(k).isdigit() for k in value):
            _flatten_params(path, value, name, out)
        else:
            out[name] = value


def _read_toml(path: Path) -> tuple[dict, str]:
    data = read_input_file(path, "a scenario TOML file (see scenarios/ for examples)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte {e.start}). Expected a UTF-8 "
                         "encoded TOML file.") from None
    try:
        parsed = tomllib.loads(text)
    except RecursionError:
        raise InputError(f"{path}: arrays or tables nested too deeply. Expected at most "
                         f"{MAX_DEPTH} levels.") from None
    except tomllib.TOMLDecodeError as e:
        # name the offending line (and so the key): tomllib's message only gives its number
        m = re.search(r"at line (\d+)", str(e))
        lines = text.splitlines()
        where = ""
        if m and 0 < int(m.group(1)) <= len(lines):
            where = f" at line {m.group(1)}: `{lines[int(m.group(1)) - 1].strip()}`"
        hint = " (a key set twice?)" if "overwrite" in str(e) else ""
        raise InputError(f"{path}: invalid TOML{where} ({e}){hint}. Expected TOML syntax, "
                         "e.g. key = value, [table], each key once.") from None
    check_structure(parsed, path)
    return parsed, text


def _allowed_roots(root_file: Path) -> list[Path]:
    return [root_file.resolve().parent, BUNDLED_DIR.resolve()]


def _resolve_extends(path: Path, target: Any, roots: list[Path]) -> Path:
    if not isinstance(target, str) or not target.strip():
        raise _fail(path, "extends", f"got {target!r}", "a file name such as \"base.toml\"")
    if os.path.isabs(target) or target.startswith("~"):
        raise _fail(path, "extends", f"absolute path {target!r} is not allowed",
                    "a file name relative to this file's folder")
    if "\0" in target:  # os calls raise ValueError on it
        raise _fail(path, "extends", f"got {target!r} (a NUL character)", "a file name")
    cand = (path.parent / target)
    try:  # a too-long name raises OSError (ENAMETOOLONG), not just "not found"
        if not cand.exists() and (BUNDLED_DIR / target).exists():
            cand = BUNDLED_DIR / target
        real = cand.resolve()
        is_file = real.is_file()
    except (OSError, RuntimeError) as e:
        raise _fail(path, "extends", f"{target!r} cannot be used "
                    f"({getattr(e, 'strerror', None) or e})",
                    "a short file name relative to this file's folder") from None
    if not any(real.is_relative_to(r) for r in roots):
        raise _fail(path, "extends", f"{target!r} points outside the scenario folders",
                    "a file in the same folder as the scenario or in the bundled scenarios/")
    if not is_file:
        raise _fail(path, "extends", f"target {target!r} not found (looked for {cand})",
                    "an existing scenario file")
    return real


def _unknown_top_key(fpath: Path, key: str, data: dict, groups: set[str]) -> InputError:
    import difflib

    if key in ("base", "design", "fixed", "replications") and "base" in data:
        return _fail(fpath, key, "unknown key: this looks like an experiment file (it has "
                     "'base'), not a scenario", "a scenario file; run an experiment file with "
                     "welfare-sim sweep")
    close = difflib.get_close_matches(key, [*_TOP_KEYS, *groups], n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return _fail(fpath, key, f"unknown key.{hint}".rstrip("."),
                 "name, description, extends, seed, paradigm, [parameters] or a "
                 "parameter group such as [cocreation]")


def find_scenario(path: str | os.PathLike) -> Path:
    """The one lookup rule for scenario names, used by every command: a path that exists is
    taken as given; otherwise a bundled scenario of that name (``classroom.toml`` or
    ``classroom`` finds ``scenarios/classroom.toml``)."""
    p = Path(path)
    try:
        if "\0" in str(p) or p.exists() or p.is_absolute() or len(p.parts) != 1:
            return p
        for cand in (BUNDLED_DIR / p.name, BUNDLED_DIR / f"{p.name}.toml"):
            if cand.is_file():
                return cand
    except OSError:  # a too-long name: let the reader report it
        pass
    return p


def bundled_names() -> list[str]:
    return sorted(f.name for f in BUNDLED_DIR.glob("*.toml"))


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file (a path, or the name of a
    bundled scenario: :func:`find_scenario`). Reports every invalid key at once."""
    root = find_scenario(path)
    if "\0" in str(root):  # os calls raise ValueError on it
        raise InputError(f"{str(root)!r}: a file name with a NUL character. Expected a "
                         "scenario TOML file.")
    try:
        roots = _allowed_roots(root)
    except (RuntimeError, OSError) as e:
        raise InputError(f"{root}: cannot be resolved ({e}). Expected a scenario TOML "
                         "file (not a symbolic-link loop).") from None
    chain: list[tuple[Path, dict, str]] = []
    seen: list[Path] = []
    current = root
    while True:
        try:
            real = current.resolve()
        except (RuntimeError, OSError) as e:  # a symlink loop, a too-long name
            raise InputError(f"{current}: cannot be resolved ({e}). Expected a scenario TOML "
                             "file (not a symbolic-link loop).") from None
        if real in seen:
            cycle = " → ".join(p.name for p in [*seen, real])
            raise _fail(current, "extends", f"circular extends ({cycle})",
                        "a chain of files that ends in a file without extends")
        if len(seen) >= MAX_EXTENDS_DEPTH:
            raise _fail(current, "extends", "the extends chain is too deep",
                        f"at most {MAX_EXTENDS_DEPTH} levels")
        seen.append(real)
        data, text = _read_toml(current if not chain else real)
        chain.append((current, data, text))
        if "extends" not in data:
            break
        current = _resolve_extends(current, data["extends"], roots)

    params = defaults()
    paradigm = ParadigmSchedule.single("traditional")
    seed, name, description = 1, root.stem, ""
    groups = {n.split(".")[0] for n in registry()}
    problems = Problems()  # every problem of every file in the chain, not just the first
    for fpath, data, _ in reversed(chain):  # base first, the given file last
        unknown = set()
        for key in data:
            if key not in _TOP_KEYS and key.split(".")[0] not in groups:
                unknown.add(key)
                with problems.check():
                    raise _unknown_top_key(fpath, key, data, groups)
        with problems.check():
            if "name" in data:
                if not isinstance(data["name"], str):
                    raise _fail(fpath, "name", f"got {data['name']!r}", "a text")
                check_name(data["name"], fpath, "name")
                name = data["name"]
        with problems.check():
            if "description" in data:
                if not isinstance(data["description"], str):
                    raise _fail(fpath, "description", f"got {data['description']!r}", "a text")
                description = data["description"]
        with problems.check():
            if "seed" in data:
                s = data["seed"]
                if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2**63:
                    raise _fail(fpath, "seed", f"got {s!r}", "a whole number ≥ 0")
                seed = s
        with problems.check():
            if "paradigm" in data:
                paradigm = parse_paradigm(data["paradigm"], fpath)
        flat: dict[str, Any] = {}
        rest = {k: v for k, v in data.items() if k not in _TOP_KEYS and k not in unknown}
        with problems.check():
            _flatten_params(fpath, rest, "", flat)
        with problems.check():
            if "parameters" in data:
                if not isinstance(data["parameters"], dict):
                    raise _fail(fpath, "parameters", "not a table",
                                "[parameters] with name = value")
                _flatten_params(fpath, data["parameters"], "", flat)
        for key, value in flat.items():
            with problems.check():
                params[key] = _check_value(fpath, key, value)
    problems.raise_if_any()
    _check_cross(root, params)
    text = "".join(f"# --- {p}\n{t}\n" for p, _, t in reversed(chain))
    return Scenario(name, root, params, paradigm, seed, description, text,
                    [str(p) for p, _, _ in reversed(chain)])
