"""Experiment files (TOML) and their designs: full factorial, Latin hypercube, Sobol, Morris.

An experiment file names a ``base`` scenario, optional ``[fixed]`` overrides, the
``[parameters]`` to vary (a list of values, a range ``{low, high}`` or a list of dated series /
paradigm tables), a ``[design]``, ``replications``, ``seed``, ``metrics`` and ``years`` to keep,
and optionally ``[uncertainty]``: parameter draws (plausible worlds, as ``compare
--uncertainty``) crossed with every design point. Every problem raises
:class:`sim.errors.InputError` naming the file and the key.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError, Problems
from sim.metrics import METRIC_NAMES
from sim.params import registry
from sim.safety import MAX_DEPTH, check_name, check_structure, read_input_file
from sim.scenario import DatedSeries, Scenario, find_scenario, load_scenario

MAX_RUNS = 200_000  # runs (points × replications) of one experiment file
SECONDS_PER_RUN = 2.0  # rough cost of a small run, for the estimate in the design-size error
METHODS = ("full_factorial", "latin_hypercube", "sobol", "morris")
_TOP = ("name", "description", "base", "fixed", "parameters", "design", "replications", "seed",
        "metrics", "years", "uncertainty")
_DESIGN_KEYS = ("method", "samples", "levels", "seed", "second_order")
_UNCERTAINTY_KEYS = ("draws", "parameters", "seed", "sampler", "posterior")
DEFAULT_METRICS = ("population", "need_hours", "hours_delivered", "coverage", "quality",
                   "fit_niche", "satisfaction", "cost_per_inhabitant", "fte_need",
                   "fte_per_1000", "share_admin", "hours_volunteer", "hours_informal",
                   "hours_professional", "hours_coproduced", "effective_coverage",
                   "coverage_gap_resource", "coverage_gini", "fiscal_gap",
                   *(m for m in METRIC_NAMES if m.startswith("cell_")))


def _fail(path: Path | str, key: str | None, what: str, expected: str) -> InputError:
    where = f"{path}" + (f", key '{key}'" if key else "")
    return InputError(f"{where}: {what}. Expected {expected}.")


def derive_seed(root: int, replication: int) -> int:
    """Seed of replication ``r``: the same for every scenario/design point (common random
    numbers), independent streams across replications."""
    ss = np.random.SeedSequence([int(root), int(replication)])
    return int(ss.generate_state(1, np.uint32)[0])


def scenario_digest(scenario: Scenario) -> str:
    """Hash of everything in a scenario that shapes a run: the resolved parameters and the
    paradigm schedule — not file paths, names, comments or the working folder, so the same
    experiment has the same run ids from any folder and after the project moves."""
    cached = getattr(scenario, "_digest", None)
    if cached is not None and cached[0] is scenario.params:
        return cached[1]
    params = {k: (v.to_toml() if isinstance(v, DatedSeries) else v)
              for k, v in sorted(scenario.params.items())}
    pd_ = scenario.paradigm
    key = json.dumps({"parameters": params, "paradigm": [pd_.start_mix, pd_.end_mix,
                                                         pd_.start_year, pd_.end_year]},
                     sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    object.__setattr__(scenario, "_digest", (scenario.params, digest))
    return digest


def run_id(scenario: Scenario, overrides: dict[str, Any], seed: int,
           metrics: tuple[str, ...] | list[str] | None = None,
           years: tuple[int, ...] | list[int] | None = None) -> str:
    """Stable id of a run from everything that shapes its stored result: the resolved base
    parameters, the overrides, the seed, the metrics and years kept and, when they are not the
    bundled files, the base-population figures."""
    from sim.demography.data import base_population_key

    parts = {"scenario": scenario_digest(scenario), "overrides": overrides,
             "seed": int(seed), "metrics": list(metrics) if metrics else None,
             "years": list(years) if years else None}
    # figures imported by the user (not bundled): their hash is part of the id, so a re-import
    # with other figures or another data folder never reuses runs (bundled runs keep their ids)
    data = base_population_key(overrides.get("run.municipality",
                                             scenario.params.get("run.municipality", "")))
    if data is not None:
        parts["base_population"] = data
    key = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class Factor:
    """One varied parameter: either ``values`` (discrete) or a ``low``/``high`` range."""

    name: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    levels: int | None = None
    integer: bool = False

    @property
    def is_range(self) -> bool:
        return self.values is None

    def discrete(self) -> list[Any]:
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None and self.levels
        vals = np.linspace(self.low, self.high, self.levels)
        return [int(round(v)) if self.integer else float(v) for v in vals]

    def scale(self, u: np.ndarray) -> list[Any]:
        """Map unit-interval samples to values (a range) or to list entries (categorical)."""
        if self.values is not None:
            idx = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in idx]
        assert self.low is not None and self.high is not None
        x = self.low + u * (self.high - self.low)
        return [int(round(v)) if self.integer else float(v) for v in x]


@dataclass
class Experiment:
    path: Path
    text: str
    name: str
    description: str
    base: Scenario
    factors: list[Factor]
    method: str = "full_factorial"
    samples: int = 0
    levels: int = 4
    design_seed: int = 1
    second_order: bool = False
    replications: int = 1
    seed: int = 1
    metrics: tuple[str, ...] = DEFAULT_METRICS
    years: tuple[int, ...] | None = None
    fixed: dict[str, Any] = field(default_factory=dict)
    # parameter draws crossed with every design point (None: no [uncertainty]) and where they
    # came from (sim.experiments.uncertainty.prepare's description, kept in the manifest)
    draws: pd.DataFrame | None = None
    uncertainty: dict[str, Any] | None = None

    @property
    def n_draws(self) -> int:
        return len(self.draws) if self.draws is not None else 1

    def draw_overrides(self) -> list[dict[str, Any]]:
        """The overrides of each draw in draw order; [{}] without draws."""
        if self.draws is None:
            return [{}]
        from sim.experiments.uncertainty import draw_overrides, parameter_columns

        return draw_overrides(self.draws, parameter_columns(self.draws))

    def problem(self) -> dict[str, Any]:
        """SALib problem of the range factors."""
        return {"num_vars": len(self.factors), "names": [f.name for f in self.factors],
                "bounds": [[f.low, f.high] for f in self.factors]}


# ------------------------------------------------------------------ parsing
def _flatten(table: dict, prefix: str, out: dict[str, Any]) -> None:
    reg = registry()
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if (isinstance(value, dict) and name not in reg and name != "paradigm"
                and not {"low", "high"} & set(value) and not all(str(k).isdigit()
                                                                 for k in value)):
            _flatten(value, name, out)
        else:
            out[name] = value


def _check_override(path: Path, key: str, base: Scenario, name: str, value: Any) -> None:
    try:
        base.with_overrides({name: value}, source=str(path))
    except InputError as exc:
        msg, head = str(exc), f"{path}, key '{name}"
        if msg.startswith(head):  # name the key as written in the experiment file
            msg = f"{path}, key '{key}" + msg[len(head):]
        elif str(path) not in msg:
            msg = f"{path}, key '{key}': {msg}"
        raise InputError(msg) from None


def _factor(path: Path, base: Scenario, name: str, spec: Any) -> Factor:
    key = f"parameters.{name}"
    reg = registry()
    if name != "paradigm" and name not in reg:
        raise _fail(path, key, "unknown parameter",
                    "a name from the parameter registry (welfare-sim params) or 'paradigm'")
    integer = name in reg and reg[name].kind is int
    if isinstance(spec, list):
        if not spec:
            raise _fail(path, key, "empty list", "a list of at least one value")
        for i, v in enumerate(spec):
            _check_override(path, f"{key}[{i}]", base, name, v)
        return Factor(name, values=tuple(spec), integer=integer)
    if isinstance(spec, dict) and {"low", "high"} <= set(spec):
        extra = set(spec) - {"low", "high", "levels"}
        if extra:
            raise _fail(path, f"{key}.{sorted(extra)[0]}", "unknown key", "low, high, levels")
        lo, hi = spec["low"], spec["high"]
        for k, v in (("low", lo), ("high", hi)):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise _fail(path, f"{key}.{k}", f"got {v!r}", "a number")
            _check_override(path, f"{key}.{k}", base, name, v)
        if not lo < hi:
            raise _fail(path, key, f"low {lo} is not below high {hi}", "low < high")
        levels = spec.get("levels")
        if levels is not None and (isinstance(levels, bool) or not isinstance(levels, int)
                                   or levels < 2):
            raise _fail(path, f"{key}.levels", f"got {levels!r}", "a whole number ≥ 2")
        return Factor(name, low=float(lo), high=float(hi), levels=levels, integer=integer)
    raise _fail(path, key, f"got {spec!r}",
                "a list of values [a, b, ...], a range {low = a, high = b} (optionally "
                "levels = n), or a list of dated series [{2016 = a, 2060 = b}, ...]")


def _int(path, key, v, low=0, high=None) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < low or (high is not None
                                                                  and v > high):
        rng = f"between {low} and {high}" if high is not None else f"≥ {low}"
        raise _fail(path, key, f"got {v!r}", f"a whole number {rng}")
    return v


# ------------------------------------------------------------------ [uncertainty]
def _uncertainty_table(path: Path, table: Any) -> dict[str, Any]:
    """The [uncertainty] table checked key by key: draws, parameters (list or None), seed,
    sampler and posterior (a resolved path or None)."""
    from sim.experiments.uncertainty import SAMPLERS

    if not isinstance(table, dict):
        raise _fail(path, "uncertainty", "not a table", "[uncertainty] with draws = N")
    for k in table:
        if k not in _UNCERTAINTY_KEYS:
            raise _fail(path, f"uncertainty.{k}", "unknown key", ", ".join(_UNCERTAINTY_KEYS))
    post = table.get("posterior")
    if post is not None:
        if not isinstance(post, str) or not post.strip() or "\0" in post:
            raise _fail(path, "uncertainty.posterior", f"got {post!r}",
                        "the path of a CSV or Parquet posterior file, relative to the "
                        "experiment file")
        post_path = path.parent / post
        try:
            found = post_path.is_file()
        except OSError:
            found = False
        if not found:
            raise _fail(path, "uncertainty.posterior", f"file {post_path} not found",
                        "an existing CSV or Parquet posterior file, relative to the "
                        "experiment file")
        post = post_path
    if "draws" not in table and post is None:
        raise _fail(path, "uncertainty.draws", "missing", "draws = N, the number of "
                    "parameter draws (or posterior = \"FILE\" to use its rows)")
    draws = (_int(path, "uncertainty.draws", table["draws"], 1, MAX_RUNS)
             if "draws" in table else None)
    params = table.get("parameters")
    if params is not None and (not isinstance(params, list) or not params or not all(
            isinstance(x, str) and x.strip() for x in params)):
        raise _fail(path, "uncertainty.parameters", f"got {params!r}",
                    "a list of registry names or globs, e.g. [\"npm.*\", "
                    "\"cocreation.thick_tailoring\"]")
    seed = _int(path, "uncertainty.seed", table.get("seed", 1), 0, 2**32 - 1)
    sampler = table.get("sampler")
    if sampler is not None and sampler not in SAMPLERS:
        raise _fail(path, "uncertainty.sampler", f"got {sampler!r}",
                    "one of " + ", ".join(SAMPLERS))
    if sampler is not None and post is not None:
        raise _fail(path, "uncertainty.sampler", "a sampler covers the registry ranges; it "
                    "does not apply to a posterior file, whose rows are the draws",
                    "sampler or posterior, not both")
    return {"draws": draws, "parameters": params, "seed": seed, "sampler": sampler,
            "posterior": post}


def _held(factors: list[Factor], fixed: dict[str, Any]) -> dict[str, str]:
    """Parameters the experiment itself sets, with the reason: a draw never overrides them."""
    reg = registry()
    held = {k: "the experiment's [fixed] sets it" for k in fixed if k in reg}
    held.update({f.name: "the experiment's [parameters] vary it" for f in factors
                 if f.name in reg})
    return held


def _draws(path: Path, base: Scenario, factors: list[Factor], fixed: dict[str, Any],
           spec: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The draws of an [uncertainty] table, through the same machinery as compare
    --uncertainty; parameters the design varies or fixes, or the base sets, are not drawn."""
    from sim.experiments import uncertainty as unc

    labels = {"--uncertain-params": f"{path}, key 'uncertainty.parameters'",
              "--posterior": f"{path}, key 'uncertainty.posterior' ({spec['posterior']})"}
    draws, info = unc.prepare([base], spec["draws"], spec["parameters"], spec["posterior"],
                              spec["seed"], spec["sampler"], _held(factors, fixed), labels)
    assert draws is not None and info is not None
    if spec["posterior"] is not None:
        info["posterior"] = str(spec["posterior"])
    return draws, info


def uncertainty_identity(exp: Experiment) -> str | None:
    """What a --resume must match: the draws themselves (values, not how they were asked for),
    as a short text for the refusal message; None without draws."""
    if exp.draws is None:
        return None
    from sim.experiments.uncertainty import parameter_columns

    digest = hashlib.sha256(exp.draws.to_csv(index=False).encode("utf-8")).hexdigest()[:12]
    return (f"{len(exp.draws)} draws of {len(parameter_columns(exp.draws))} parameters "
            f"(digest {digest})")


def looks_like_experiment(path: str | Path) -> bool:
    """True when ``path`` is a TOML file with a top-level ``base`` (an experiment file)."""
    p = Path(path)
    try:  # only a small regular file is read here (never a FIFO or /dev/zero)
        if not p.is_file() or p.stat().st_size > 1_000_000:
            return False
        return "base" in tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError, RecursionError):
        return False


def _scenario_not_experiment(path: Path, data: dict) -> InputError | None:
    """A scenario file given where an experiment file is expected: say so plainly."""
    if "base" in data:
        return None
    scenario_keys = {"extends", "paradigm", "seed"} | {k for k in data if "." in k}
    groups = {n.split(".")[0] for n in registry()}
    if scenario_keys & set(data) or (set(data) - set(_TOP)) & groups:
        return InputError(f"{path}: this is a scenario file, not an experiment file (it has no "
                          "'base' and has scenario keys). Expected an experiment file with "
                          "base = \"../scenarios/NAME.toml\" and [parameters] to vary (see "
                          "experiments/); run a scenario with welfare-sim run or compare.")
    return None


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file; every problem of the file is reported at once."""
    path = Path(path)
    if "\0" in str(path):
        raise InputError(f"{str(path)!r}: a file name with a NUL character. Expected an "
                         "experiment TOML file.")
    raw = read_input_file(path, "an experiment TOML file (see experiments/ for examples)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte {e.start}). Expected a UTF-8 TOML "
                         "file.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: invalid TOML ({e}). Expected TOML syntax.") from None
    except RecursionError:
        raise InputError(f"{path}: arrays or tables nested too deeply. Expected at most "
                         f"{MAX_DEPTH} levels.") from None
    check_structure(data, path)
    wrong_kind = _scenario_not_experiment(path, data)
    if wrong_kind is not None:
        raise wrong_kind
    problems = Problems()
    for k in data:
        if k not in _TOP:
            with problems.check():
                raise _fail(path, k, "unknown key", ", ".join(_TOP))
    base: Scenario | None = None
    with problems.check():
        if "base" not in data or not isinstance(data["base"], str):
            raise _fail(path, "base", f"got {data.get('base')!r}",
                        "base = \"../scenarios/NAME.toml\" (relative to the experiment file, or "
                        "the name of a bundled scenario)")
        base_path = (path.parent / data["base"])
        try:  # a NUL or a too-long name raise instead of returning False
            base_ok = "\0" not in data["base"] and base_path.is_file()
            if not base_ok and "\0" not in data["base"]:  # the one lookup rule for names
                base_path = find_scenario(data["base"])
                base_ok = base_path.is_file()
        except OSError:
            base_ok = False
        if not base_ok:
            raise _fail(path, "base", f"scenario file {path.parent / data['base']} not found",
                        "an existing scenario file relative to the experiment file, or the "
                        "name of a bundled scenario")
        base = load_scenario(base_path)
    fixed: dict[str, Any] = {}
    with problems.check():
        if "fixed" in data:
            if not isinstance(data["fixed"], dict):
                raise _fail(path, "fixed", "not a table", "[fixed] with parameter = value")
            _flatten(data["fixed"], "", fixed)
            if base is not None:
                base = base.with_overrides(fixed, source=f"{path}, [fixed]")
    factors: list[Factor] = []
    params = data.get("parameters", {})
    flat: dict[str, Any] = {}
    with problems.check():
        if not isinstance(params, dict):
            raise _fail(path, "parameters", "not a table", "[parameters] with name = values")
        _flatten(params, "", flat)
    if base is not None:
        for n, spec in flat.items():
            with problems.check():
                factors.append(_factor(path, base, n, spec))
    design = data.get("design", {})
    method = "full_factorial"
    with problems.check():
        if not isinstance(design, dict):
            design = {}
            raise _fail(path, "design", "not a table", "[design] with method = ...")
    for k in design:
        if k not in _DESIGN_KEYS:
            with problems.check():
                raise _fail(path, f"design.{k}", "unknown key", ", ".join(_DESIGN_KEYS))
    with problems.check():
        method = design.get("method", "full_factorial")
        if method not in METHODS:
            bad, method = method, "full_factorial"
            raise _fail(path, "design.method", f"got {bad!r}", "one of " + ", ".join(METHODS))
    for key in ("name", "description"):
        with problems.check():
            if key in data and not isinstance(data[key], str):
                raise _fail(path, key, f"got {data[key]!r}", "a text")
    name = data.get("name", path.stem)
    with problems.check():
        check_name(str(name), path, "name")
    exp = Experiment(path, text, str(name), str(data.get("description", "")), base,
                     factors, method, fixed=fixed)  # type: ignore[arg-type]
    with problems.check():
        exp.replications = _int(path, "replications", data.get("replications", 1), 1, 100_000)
    with problems.check():
        exp.seed = _int(path, "seed", data.get("seed", 1), 0, 2**63 - 1)
    with problems.check():
        exp.design_seed = _int(path, "design.seed", design.get("seed", exp.seed), 0,
                               2**32 - 1)
    with problems.check():
        exp.levels = _int(path, "design.levels", design.get("levels", 4), 2, 100)
    second = design.get("second_order", False)
    with problems.check():
        if not isinstance(second, bool):
            second = False
            raise _fail(path, "design.second_order",
                        f"got {design.get('second_order')!r}", "true or false (without quotes)")
    exp.second_order = second
    with problems.check():
        if method != "full_factorial":
            exp.samples = _int(path, "design.samples", design.get("samples", 0), 1,
                               10_000_000)
    if method in ("sobol", "morris") and base is not None:
        for f in factors:
            if not f.is_range:
                with problems.check():
                    raise _fail(path, f"parameters.{f.name}", f"{method} needs ranges",
                                "{low = a, high = b} for every parameter")
        if not factors and not flat:
            with problems.check():
                raise _fail(path, "parameters", "no parameters to vary", "at least one range")
    if method == "full_factorial":
        for f in factors:
            if f.is_range and not f.levels:
                with problems.check():
                    raise _fail(path, f"parameters.{f.name}", "a range in a full factorial "
                                "design needs levels", "{low = a, high = b, levels = n} or a "
                                "list")
    metrics = data.get("metrics", list(DEFAULT_METRICS))
    with problems.check():
        if not isinstance(metrics, list) or not metrics:
            metrics = list(DEFAULT_METRICS)
            raise _fail(path, "metrics", f"got {data.get('metrics')!r}",
                        "a list of metric names")
    for i, m in enumerate(metrics):
        if m not in METRIC_NAMES or m in ("year", "month"):
            import difflib
            close = difflib.get_close_matches(str(m), METRIC_NAMES, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            with problems.check():
                raise _fail(path, f"metrics[{i}]", f"unknown metric {m!r}{hint}",
                            "a metric name from docs/metrics.md")
        if m in metrics[:i]:
            with problems.check():
                raise _fail(path, f"metrics[{i}]", f"{m!r} is listed twice", "each metric once")
    exp.metrics = tuple(metrics)
    years = data.get("years")
    with problems.check():
        if years is not None:
            if not isinstance(years, list) or not years:
                raise _fail(path, "years", f"got {years!r}",
                            "a list of years, e.g. [2040, 2060]")
            if base is not None:
                start, end = base.params["run.start_year"], base.params["run.end_year"]
                exp.years = tuple(_int(path, f"years[{i}]", y, start, end)
                                  for i, y in enumerate(years))
                for i, y in enumerate(exp.years):
                    if y in exp.years[:i]:
                        raise _fail(path, f"years[{i}]", f"{y} is listed twice",
                                    "each year once")
    if "uncertainty" in data:
        with problems.check():
            spec = _uncertainty_table(path, data["uncertainty"])
            if base is not None and len(factors) == len(flat):  # factors all valid
                exp.draws, exp.uncertainty = _draws(path, base, factors, fixed, spec)
    problems.raise_if_any()
    check_design_size(exp)
    return exp


# ------------------------------------------------------------------ designs
def _unit_sample(exp: Experiment) -> tuple[np.ndarray, np.ndarray | None]:
    """(unit-interval samples, raw SALib sample in parameter units or None)."""
    d = len(exp.factors)
    if exp.method == "latin_hypercube":
        rng = np.random.default_rng(exp.design_seed)
        n = exp.samples
        u = (np.argsort(rng.random((d, n)), axis=1).T + rng.random((n, d))) / n
        return u, None
    problem = exp.problem()
    if exp.method == "sobol":
        from SALib.sample import sobol as sobol_sample
        x = sobol_sample.sample(problem, exp.samples, calc_second_order=exp.second_order,
                                scramble=True, seed=exp.design_seed)
    else:
        from SALib.sample import morris as morris_sample
        x = morris_sample.sample(problem, exp.samples, num_levels=exp.levels,
                                 seed=exp.design_seed)
    lo = np.array([f.low for f in exp.factors])
    hi = np.array([f.high for f in exp.factors])
    return (x - lo) / (hi - lo), x


def design_points(exp: Experiment) -> tuple[list[dict[str, Any]], np.ndarray | None]:
    """The design's points (name -> value) in design order, and the raw sample matrix."""
    if exp.method == "full_factorial":
        grids = [f.discrete() for f in exp.factors]
        return [dict(zip([f.name for f in exp.factors], combo, strict=True))
                for combo in itertools.product(*grids)], None
    u, raw = _unit_sample(exp)
    cols = [f.scale(u[:, j]) for j, f in enumerate(exp.factors)]
    pts = [{f.name: cols[j][i] for j, f in enumerate(exp.factors)} for i in range(len(u))]
    if raw is not None:  # keep SALib's exact values for ranges (analysis needs them)
        for i, p in enumerate(pts):
            for j, f in enumerate(exp.factors):
                if not f.integer:
                    p[f.name] = float(raw[i, j])
    return pts, raw


def design_manifest(exp: Experiment) -> dict[str, Any]:
    """The design keys of a sweep's manifest.json (what ``analyze`` needs)."""
    return {"method": exp.method, "samples": exp.samples, "levels": exp.levels,
            "design_seed": exp.design_seed, "second_order": exp.second_order,
            "replications": exp.replications, "seed": exp.seed,
            "parameters": [f.name for f in exp.factors],
            "problem": exp.problem() if exp.method in ("sobol", "morris") else None,
            "metrics": list(exp.metrics), "years": list(exp.years) if exp.years else None,
            "draws": len(exp.draws) if exp.draws is not None else None,
            "uncertainty": exp.uncertainty}


def cell_value(v: Any) -> Any:
    """A design value as a Parquet cell: scalars as is, tables as JSON text."""
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return v


def run_overrides(point: dict[str, Any], draw: dict[str, Any]) -> dict[str, Any]:
    """A run's overrides: its draw's values, then its design point's (the design wins; the
    two never share a parameter, see _held)."""
    return {**draw, **point} if draw else point


def design_table(exp: Experiment) -> pd.DataFrame:
    """One row per run: point, draw (with [uncertainty]), replication, seed, run_id, the
    design's parameter values and the draw's. Replication r has the same seed at every point
    and draw, and draw d the same values at every point (common random numbers)."""
    pts, _ = design_points(exp)
    text_cols = _text_columns(exp, pts)
    draws = exp.draw_overrides()
    rows = []
    for i, p in enumerate(pts):
        cells = {k: (json.dumps(v, sort_keys=True) if k in text_cols else cell_value(v))
                 for k, v in p.items()}
        for d, drawn in enumerate(draws):
            over = run_overrides(p, drawn)
            which = {"draw": d} if exp.draws is not None else {}
            for r in range(exp.replications):
                seed = derive_seed(exp.seed, r)
                rows.append({"point": i, **which, "replication": r, "seed": seed,
                             "run_id": run_id(exp.base, over, seed, exp.metrics, exp.years),
                             **cells, **drawn})
    return pd.DataFrame(rows)


def _text_columns(exp: Experiment, pts: list[dict[str, Any]]) -> set[str]:
    """Factors whose values mix tables (dated series, paradigm tables) and numbers: stored as
    JSON text throughout, since a Parquet column has one type."""
    out = set()
    for f in exp.factors:
        vals = [p[f.name] for p in pts]
        tables = any(isinstance(v, (dict, list)) for v in vals)
        numbers = any(isinstance(v, (int, float)) for v in vals)
        if tables and numbers:
            out.add(f.name)
    return out


def design_size(exp: Experiment) -> int:
    """Number of runs of the design (points × replications), computed without building it."""
    d = len(exp.factors)
    if exp.method == "full_factorial":
        points = math.prod(len(f.values) if f.values is not None else int(f.levels or 1)
                           for f in exp.factors)
    elif exp.method == "latin_hypercube":
        points = exp.samples
    elif exp.method == "sobol":
        points = exp.samples * ((2 * d + 2) if exp.second_order else (d + 2))
    else:  # morris
        points = exp.samples * (d + 1)
    return points * exp.n_draws * exp.replications


def check_design_size(exp: Experiment) -> None:
    runs = design_size(exp)
    if runs <= MAX_RUNS:
        return
    years = (len(exp.years) if exp.years else
             int(exp.base.params["run.end_year"]) - int(exp.base.params["run.start_year"]) + 1)
    disk_gb = runs * (len(exp.metrics) * years * 24 + 4096) / 1e9
    cpu_h = runs * SECONDS_PER_RUN / 3600
    draws = f" × draws {exp.n_draws:,}" if exp.draws is not None else ""
    raise _fail(exp.path, "design", f"the design has {runs:,} runs (points{draws} × "
                f"replications {exp.replications:,}); that is about {cpu_h:,.0f} CPU-hours at "
                f"{SECONDS_PER_RUN:g} s a run and {disk_gb:,.1f} GB of run files",
                f"at most {MAX_RUNS:,} runs: fewer levels, samples, draws or replications, "
                "or several experiment files")
