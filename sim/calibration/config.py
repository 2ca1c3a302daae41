"""Calibration files: a config (what to fit, how hard to search) and a targets file (what the
model should reproduce, with sources). Both are TOML data; every problem raises
:class:`sim.errors.InputError` as one paragraph naming the file, the key and what was expected.

Config (e.g. ``calibration/norway.toml``)::

    name = "Norway 2016"
    scenario = "../scenarios/norway.toml"   # the base scenario (relative to this file)
    paradigm = "traditional"               # optional: run the base under this paradigm
    targets = "targets_norway.toml"        # relative to this file
    population_scale = 0.01                # agents per person in calibration runs
    seed = 2016
    trials = 120                           # Optuna TPE trials
    replications = 2                       # runs per trial (averaged)
    batch = 4                              # trials proposed together (not the worker count)
    startup_trials = 10                    # random trials before TPE models the objective
    start_at_base = true                   # trial 0 runs the base scenario's own values
    [rerun]
    top = 5                                # best trials re-run on fresh seeds ...
    replications = 4                       # ... this many times; the best re-run is chosen
    [[parameter]]
    name = "professionals.indirect_share"  # a registry parameter
    low = 0.2                              # optional, default the registry range
    high = 0.5
    log = false                            # optional: sample on a log scale

Targets (e.g. ``calibration/targets_norway.toml``), one ``[[target]]`` table each::

    [[target]]
    name = "fte_per_1000_2016"
    metric = "fte_per_1000"                # a column of ticks.parquet (welfare-sim metrics)
    year = 2016                            # compared with that year's mean (flows: sum)
    value = 25.5
    unit = "FTE/1,000"
    source = "SSB table 11880, årsverk i pleie og omsorg 2015 (docs/facts.md)"
    holdout = false                        # true: not fitted, reported as an out-of-sample check
    tolerance_rel = 0.15                   # |model/value - 1| counted as within tolerance
    weight = 1.0                           # optional, weight in the objective
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.scenario import _fail as fail  # one error format for every input file

CONFIG_KEYS = ("name", "description", "scenario", "paradigm", "targets", "population_scale",
               "seed", "trials", "replications", "batch", "startup_trials", "start_at_base",
               "rerun", "parameter")
RERUN_KEYS = ("top", "replications")
PARAMETER_KEYS = ("name", "low", "high", "log")
TARGET_KEYS = ("name", "metric", "year", "value", "unit", "source", "holdout", "tolerance_rel",
               "weight", "note")
TARGET_REQUIRED = ("name", "metric", "year", "value", "unit", "source")
MAX_TRIALS = 100_000


@dataclass(frozen=True)
class Target:
    """One observed figure the model should reproduce."""

    name: str
    metric: str
    year: int
    value: float
    unit: str
    source: str
    holdout: bool = False
    tolerance_rel: float = 0.15
    weight: float = 1.0
    note: str = ""


@dataclass(frozen=True)
class FitParameter:
    """A registry parameter to fit, with its search bounds."""

    name: str
    low: float
    high: float
    log: bool
    integer: bool
    registry_low: float
    registry_high: float
    default: float


@dataclass
class CalibrationConfig:
    path: Path
    name: str
    description: str
    scenario_path: Path
    paradigm: str | None
    targets_path: Path
    targets: list[Target]
    parameters: list[FitParameter]
    population_scale: float
    seed: int
    trials: int
    replications: int
    batch: int
    startup_trials: int
    rerun_top: int
    rerun_replications: int
    start_at_base: bool = True
    text: str = ""
    targets_text: str = ""
    scenario: Any = field(default=None, repr=False)  # the loaded base Scenario

    @property
    def fitted(self) -> list[Target]:
        return [t for t in self.targets if not t.holdout]

    @property
    def holdout(self) -> list[Target]:
        return [t for t in self.targets if t.holdout]

    @property
    def end_year(self) -> int:
        return max(t.year for t in self.targets)

    @property
    def hash(self) -> str:
        """Hash of everything that decides the result: config, targets and scenario text."""
        h = hashlib.sha256()
        for part in (self.text, self.targets_text, self.scenario.text if self.scenario else ""):
            h.update(part.encode("utf-8"))
            h.update(b"\0")
        return h.hexdigest()[:16]


def read_toml(path: Path, what: str) -> tuple[dict, str]:
    """Read a TOML file; every failure is an InputError naming the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found. Expected {what}.") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder. Expected {what}.") from None
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror}). Expected {what}.") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte {e.start}). Expected {what} in "
                         "UTF-8.") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: invalid TOML ({e}). Expected {what} in TOML syntax "
                         "(key = value, [table], [[array of tables]]).") from None


def _unknown(path: Path, key: str, allowed: tuple[str, ...], where: str = "") -> InputError:
    import difflib

    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return fail(path, f"{where}{key}", f"unknown key.{hint}".rstrip("."),
                f"one of {', '.join(allowed)}")


def _int(path: Path, key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(path, key, f"got {value!r}", f"a whole number from {low} to {high:,}")
    return value


def _number(path: Path, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(path, key, f"got {value!r}", "a finite number")
    return float(value)


def _text(path: Path, key: str, value: Any, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise fail(path, key, f"got {value!r}", "a non-empty text")
    return value


def _relative_file(path: Path, key: str, value: Any, what: str) -> Path:
    rel = _text(path, key, value)
    if "\0" in rel:
        raise fail(path, key, f"got {rel!r} (a NUL character)", f"the path of {what}")
    target = (path.parent / rel) if not Path(rel).is_absolute() else Path(rel)
    try:
        ok = target.is_file()
    except OSError as e:
        raise fail(path, key, f"{rel!r} cannot be used ({e.strerror})", f"the path of {what}") \
            from None
    if not ok:
        raise fail(path, key, f"{rel!r} not found (looked for {target})",
                   f"the path of {what}, relative to this file's folder")
    return target


# ------------------------------------------------------------------ targets
def load_targets(path: Path) -> tuple[list[Target], str]:
    """Read and check a targets file."""
    from sim.metrics import METRIC_NAMES

    data, text = read_toml(path, "a calibration targets file with [[target]] tables")
    for key in data:
        if key != "target":
            raise _unknown(path, key, ("target",))
    raw = data.get("target")
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        raise fail(path, "target", "no [[target]] tables", "at least one [[target]] table with "
                   f"{', '.join(TARGET_REQUIRED)}")
    metrics = [m for m in METRIC_NAMES if m not in ("year", "month")]
    targets: list[Target] = []
    seen: set[str] = set()
    for i, t in enumerate(raw, start=1):
        label = f"target #{i}" + (f" ({t['name']})" if isinstance(t.get("name"), str) else "")
        for key in t:
            if key not in TARGET_KEYS:
                raise _unknown(path, key, TARGET_KEYS, f"{label}.")
        for key in TARGET_REQUIRED:
            if key not in t:
                raise fail(path, f"{label}.{key}", "missing",
                           f"every target to have {', '.join(TARGET_REQUIRED)}")
        name = _text(path, f"{label}.name", t["name"])
        if name in seen:
            raise fail(path, f"{label}.name", f"target name {name!r} used twice",
                       "a unique name per target")
        seen.add(name)
        metric = _text(path, f"{label}.metric", t["metric"])
        if metric not in metrics:
            import difflib

            close = difflib.get_close_matches(metric, metrics, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise fail(path, f"{label}.metric", f"unknown metric {metric!r}.{hint}".rstrip("."),
                       "a metric name listed by `welfare-sim metrics` (docs/metrics.md)")
        year = _int(path, f"{label}.year", t["year"], 2016, 2216)
        value = _number(path, f"{label}.value", t["value"])
        if value == 0:
            raise fail(path, f"{label}.value", "a target of 0 has no relative error",
                       "a non-zero observed value")
        unit = _text(path, f"{label}.unit", t["unit"])
        source = _text(path, f"{label}.source", t["source"])
        holdout = t.get("holdout", False)
        if not isinstance(holdout, bool):
            raise fail(path, f"{label}.holdout", f"got {holdout!r}", "true or false")
        tol = _number(path, f"{label}.tolerance_rel", t.get("tolerance_rel", 0.15))
        if not 0 < tol <= 10:
            raise fail(path, f"{label}.tolerance_rel", f"got {tol!r}",
                       "a relative tolerance above 0, e.g. 0.15 for ±15 %")
        weight = _number(path, f"{label}.weight", t.get("weight", 1.0))
        if weight <= 0:
            raise fail(path, f"{label}.weight", f"got {weight!r}", "a weight above 0")
        note = t.get("note", "")
        if not isinstance(note, str):
            raise fail(path, f"{label}.note", f"got {note!r}", "a text")
        targets.append(Target(name, metric, year, value, unit, source, holdout, tol, weight,
                              note))
    if all(t.holdout for t in targets):
        raise fail(path, "target", "every target is a holdout, so there is nothing to fit",
                   "at least one target with holdout = false")
    return targets, text


# ------------------------------------------------------------------ config
def _parameters(path: Path, raw: Any) -> list[FitParameter]:
    from sim.params import registry, suggest

    if not isinstance(raw, list) or not raw or not all(isinstance(p, dict) for p in raw):
        raise fail(path, "parameter", "no [[parameter]] tables",
                   "at least one [[parameter]] table with name (and optionally low, high, log)")
    reg = registry()
    out: list[FitParameter] = []
    for i, p in enumerate(raw, start=1):
        label = f"parameter #{i}" + (f" ({p['name']})" if isinstance(p.get("name"), str)
                                     else "")
        for key in p:
            if key not in PARAMETER_KEYS:
                raise _unknown(path, key, PARAMETER_KEYS, f"{label}.")
        if "name" not in p:
            raise fail(path, f"{label}.name", "missing", "the registry name of the parameter")
        name = _text(path, f"{label}.name", p["name"])
        if name not in reg:
            raise fail(path, f"{label}.name", "unknown parameter." + suggest(name),
                       "a name from the parameter registry (welfare-sim params)")
        if any(q.name == name for q in out):
            raise fail(path, f"{label}.name", f"{name} is listed twice", "each parameter once")
        rp = reg[name]
        if rp.kind not in (int, float) or rp.low is None or name.startswith("run."):
            raise fail(path, f"{label}.name", f"{name} is not a numeric model parameter "
                       f"({rp.unit}, {rp.range_text})",
                       "a numeric parameter with a range in the registry (not run.*)")
        low = _number(path, f"{label}.low", p.get("low", rp.low))
        high = _number(path, f"{label}.high", p.get("high", rp.high))
        for key, v in (("low", low), ("high", high)):
            if not rp.low <= v <= rp.high:
                raise fail(path, f"{label}.{key}", f"{v:g} is outside the registry range "
                           f"{rp.range_text} {rp.unit} of {name}",
                           "bounds inside the registry's plausible range (docs/parameters.md)")
        if not low < high:
            raise fail(path, f"{label}.low", f"low {low:g} is not below high {high:g}",
                       "low < high")
        log = p.get("log", False)
        if not isinstance(log, bool):
            raise fail(path, f"{label}.log", f"got {log!r}", "true or false")
        if log and low <= 0:
            raise fail(path, f"{label}.log", f"a log scale needs low > 0, got {low:g}",
                       "log = false, or a positive low bound")
        integer = rp.kind is int
        if integer and not (low.is_integer() and high.is_integer()):
            raise fail(path, f"{label}.low", f"{name} is a whole number but the bounds are "
                       f"{low:g}–{high:g}", "whole-number bounds")
        out.append(FitParameter(name, low, high, log, integer, float(rp.low), float(rp.high),
                                float(rp.default)))
    return out


def load_config(path: str | Path) -> CalibrationConfig:
    """Read and check a calibration config, its targets file and its base scenario."""
    from sim.scenario import PARADIGMS, load_scenario, parse_paradigm

    path = Path(path)
    if "\0" in str(path):
        raise InputError(f"{str(path)!r}: a file name with a NUL character. Expected a "
                         "calibration config TOML file.")
    data, text = read_toml(path, "a calibration config TOML file (see calibration/norway.toml)")
    for key in data:
        if key not in CONFIG_KEYS:
            raise _unknown(path, key, CONFIG_KEYS)
    for key in ("scenario", "targets", "parameter"):
        if key not in data:
            raise fail(path, key, "missing", {
                "scenario": "scenario = \"../scenarios/NAME.toml\", the base scenario",
                "targets": "targets = \"targets_NAME.toml\", the observed figures to fit",
                "parameter": "[[parameter]] tables naming the registry parameters to fit"}[key])
    name = _text(path, "name", data.get("name", path.stem))
    description = data.get("description", "")
    if not isinstance(description, str):
        raise fail(path, "description", f"got {description!r}", "a text")
    scenario_path = _relative_file(path, "scenario", data["scenario"], "a scenario TOML file")
    paradigm = data.get("paradigm")
    if paradigm is not None:
        if not isinstance(paradigm, str):
            raise fail(path, "paradigm", f"got {paradigm!r}", f"one of {', '.join(PARADIGMS)}")
        parse_paradigm(paradigm, path)  # names the file and key on a bad value
    targets_path = _relative_file(path, "targets", data["targets"],
                                  "a targets TOML file with [[target]] tables")
    scale = data.get("population_scale", 0.01)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0.0001 <= scale <= 1:
        raise fail(path, "population_scale", f"got {scale!r}",
                   "agents per person between 0.0001 and 1 (e.g. 0.01 for 1:100)")
    seed = data.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise fail(path, "seed", f"got {seed!r}", "a whole number from 0 to 4,294,967,295")
    trials = _int(path, "trials", data.get("trials", 100), 1, MAX_TRIALS)
    replications = _int(path, "replications", data.get("replications", 2), 1, 1000)
    batch = _int(path, "batch", data.get("batch", 4), 1, 1000)
    startup = _int(path, "startup_trials", data.get("startup_trials", min(10, trials)), 1,
                   MAX_TRIALS)
    start_at_base = data.get("start_at_base", True)
    if not isinstance(start_at_base, bool):
        raise fail(path, "start_at_base", f"got {start_at_base!r}", "true or false")
    rerun = data.get("rerun", {})
    if not isinstance(rerun, dict):
        raise fail(path, "rerun", f"got {rerun!r}", "a table [rerun] with top and replications")
    for key in rerun:
        if key not in RERUN_KEYS:
            raise _unknown(path, key, RERUN_KEYS, "rerun.")
    top = _int(path, "rerun.top", rerun.get("top", min(5, trials)), 1, trials)
    rerun_reps = _int(path, "rerun.replications", rerun.get("replications", 4), 1, 1000)
    parameters = _parameters(path, data["parameter"])
    targets, targets_text = load_targets(targets_path)

    scenario = load_scenario(scenario_path)
    runs_from = int(scenario.value("run.start_year"))
    for t in targets:
        if t.year < runs_from:
            raise fail(targets_path, f"target ({t.name}).year", f"{t.year} is before the "
                       f"scenario's start year {runs_from} ({scenario_path})",
                       f"a year from {runs_from} on")
    cfg = CalibrationConfig(path, name, description, scenario_path, paradigm, targets_path,
                            targets, parameters, float(scale), seed, trials, replications, batch,
                            startup, top, rerun_reps, start_at_base, text, targets_text,
                            scenario)
    run_scenario_for(cfg, {})  # the overrides themselves must validate
    return cfg


def base_values(cfg: CalibrationConfig) -> dict[str, float]:
    """The base scenario's value of each fitted parameter (start year), kept within the
    search bounds: trial 0 when ``start_at_base``."""
    sc = run_scenario_for(cfg, {})
    out: dict[str, float] = {}
    for p in cfg.parameters:
        v = min(max(float(sc.value(p.name)), p.low), p.high)
        out[p.name] = int(round(v)) if p.integer else v
    return out


def run_scenario_for(cfg: CalibrationConfig, values: dict[str, float]):
    """The scenario a calibration run uses: the base, its paradigm, the calibration scale, the
    run cut at the last target year, and the candidate parameter values."""
    overrides: dict[str, Any] = {"run.population_scale": cfg.population_scale,
                                 "run.end_year": cfg.end_year, **values}
    if cfg.paradigm:
        overrides["paradigm"] = cfg.paradigm
    return cfg.scenario.with_overrides(overrides, source=str(cfg.path))
