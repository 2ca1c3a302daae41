"""Parameter uncertainty for ``welfare-sim compare --uncertainty N``: which parameters are
uncertain, and N draws of them.

A *draw* is one plausible world: a value for every uncertain parameter. Draws come from a Latin
hypercube or a scrambled Sobol sequence over the registry's plausible ranges (each parameter
mapped through its declared distribution — uniform unless the registry says ``triangular``,
``normal``, ``lognormal`` or ``loguniform``; normal and lognormal are truncated to the range),
or from a calibration posterior (CSV or Parquet, one column per parameter). Every draw then
runs under every compared scenario with the same seeds (see :mod:`sim.experiments.compare`).
"""

from __future__ import annotations

import fnmatch
import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.params import Parameter, registry, suggest
from sim.scenario import DatedSeries, Scenario

SAMPLERS = ("latin_hypercube", "sobol")
# parameters of how each paradigm works: the default set of uncertainties of a comparison,
# less the policy levers (how much to tender, the co-creation mix and its facilitation: choices,
# as in sim.ema.DEFAULT_LEVERS), which a glob skips and only a name draws
DEFAULT_UNCERTAIN = ("traditional.*", "npm.*", "network_governance.*", "cocreation.*")
# structural settings (the run, the projection, mechanism switches): never drawn
STRUCTURAL_GROUPS = ("run", "demography", "mechanisms")
SIGNIFICANT = 6  # draws are rounded to 6 significant digits, so draws.csv reproduces them exactly
IGNORED_POSTERIOR = ("weight",)
# a posterior column is a parameter if it looks like a registry name (group.name); other
# columns (chain, iteration, objective, model:metric, ...) are carried along but not drawn
_PARAM_LIKE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$")


def _is_drawable(p: Parameter) -> bool:
    return (p.kind in (int, float) and p.low is not None and not p.choices
            and p.group not in STRUCTURAL_GROUPS)


def set_by_scenario(name: str, scenarios: list[Scenario]) -> str | None:
    """Name of the first scenario that sets ``name`` away from its registry default (a choice of
    that scenario, not an uncertainty), else None."""
    default = registry()[name].default
    for s in scenarios:
        v = s.params.get(name, default)
        if isinstance(v, DatedSeries) or v != default:
            return s.name or (str(s.path) if s.path else "scenario")
    return None


def _why_not(name: str) -> str:
    p = registry()[name]
    if p.group in STRUCTURAL_GROUPS:
        return "a structural setting (run, demography, mechanism switch), not an uncertainty"
    if p.kind is bool:
        return "an on/off switch (a choice, not a range to draw from)"
    return "a parameter without a numeric range"


def uncertain_parameters(patterns: list[str] | None, scenarios: list[Scenario],
                         flag: str = "--uncertain-params", held: dict[str, str] | None = None
                         ) -> tuple[list[str], list[str]]:
    """(parameters to draw, parameters skipped because a scenario sets them).

    ``patterns``: registry names or shell globs (``npm.*``), also comma-separated; None means
    :data:`DEFAULT_UNCERTAIN`. A name (not a glob) that cannot be drawn, or that a scenario sets,
    is an error; globs silently skip such parameters and the policy levers. ``held`` names
    parameters the caller fixes itself (an experiment's design), with the reason: treated like
    parameters a scenario sets."""
    held = held or {}
    reg = registry()
    explicit = patterns is not None
    pats: list[str] = []
    for p in (patterns if explicit else list(DEFAULT_UNCERTAIN)):
        pats += [x.strip() for x in str(p).split(",") if x.strip()]
    if explicit and not pats:
        raise InputError(f"{flag}: no parameter given. Expected registry names or globs, "
                         "e.g. 'npm.*,cocreation.thick_share'.")
    chosen: list[str] = []
    skipped: list[str] = []
    for pat in pats:
        is_glob = any(c in pat for c in "*?[")
        if not is_glob:
            if pat not in reg:
                raise InputError(f"{flag} {pat!r}: unknown parameter.{suggest(pat)} Expected "
                                 "a name from the parameter registry (welfare-sim params) or a "
                                 "glob such as 'npm.*'.")
            if not _is_drawable(reg[pat]):
                raise InputError(f"{flag} {pat!r}: {_why_not(pat)}. Expected a numeric "
                                 "parameter with a plausible range.")
            if pat in held:
                raise InputError(f"{flag} {pat!r}: {held[pat]} (a choice, not an "
                                 "uncertainty). Expected parameters that are not fixed or "
                                 "varied elsewhere; drop it from one of the two.")
            who = set_by_scenario(pat, scenarios)
            if who:
                raise InputError(f"{flag} {pat!r}: scenario {who!r} sets this parameter (a "
                                 "choice of that scenario, not an uncertainty). Expected "
                                 "parameters the compared scenarios leave at their registry "
                                 "default; drop it from the parameters to draw or from the scenario.")
            names = [pat]
        else:
            from sim.ema import DEFAULT_LEVERS

            names = [n for n in fnmatch.filter(reg, pat) if _is_drawable(reg[n])
                     and n not in DEFAULT_LEVERS]
            if not names:
                raise InputError(f"{flag} {pat!r}: matches no numeric parameter with a range. "
                                 "Expected a glob over registry names, e.g. 'npm.*' "
                                 "(welfare-sim params lists them).")
            for n in names:
                if (n in held or set_by_scenario(n, scenarios)) and n not in skipped:
                    skipped.append(n)
            names = [n for n in names if n not in skipped]
        chosen += [n for n in names if n not in chosen]
    if not chosen:
        raise InputError(f"{flag}: every matching parameter is set by a compared scenario"
                         + (" or held by the caller" if held else "") + ", so nothing is left "
                         "to draw. Expected at least one parameter the scenarios leave at its "
                         "registry default.")
    return chosen, skipped


# ------------------------------------------------------------------ sampling
def unit_sample(n: int, d: int, sampler: str, seed: int) -> np.ndarray:
    """``n`` points in the unit cube [0, 1)^d: Latin hypercube or scrambled Sobol."""
    if sampler not in SAMPLERS:
        raise InputError(f"--sampler {sampler!r}: unknown. Expected one of "
                         f"{', '.join(SAMPLERS)}.")
    rng = np.random.default_rng(seed)
    if sampler == "latin_hypercube":
        return (np.argsort(rng.random((d, n)), axis=1).T + rng.random((n, d))) / n
    from scipy.stats import qmc

    with warnings.catch_warnings():  # "balance properties need n = 2^m": fine for draws
        warnings.simplefilter("ignore")
        try:
            eng = qmc.Sobol(d, scramble=True, rng=rng)
        except TypeError:  # scipy < 1.15
            eng = qmc.Sobol(d, scramble=True, seed=rng)
        return eng.random(n)


def _truncated(dist, lo: float, hi: float, u: np.ndarray) -> np.ndarray:
    a, b = dist.cdf(lo), dist.cdf(hi)
    return dist.ppf(a + u * (b - a))


def to_values(p: Parameter, u: np.ndarray) -> np.ndarray:
    """Map unit-interval samples to the parameter's distribution over its range."""
    from scipy import stats

    lo, hi = float(p.low), float(p.high)
    u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
    dist = p.distribution or "uniform"
    if dist == "uniform":
        x = lo + u * (hi - lo)
    elif dist == "loguniform":
        x = np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))
    elif dist == "triangular":
        c = (p.mode - lo) / (hi - lo)
        x = stats.triang(c, loc=lo, scale=hi - lo).ppf(u)
    elif dist == "normal":
        x = _truncated(stats.norm(p.mean, p.sd), lo, hi, u)
    else:  # lognormal with the given mean and sd of the value
        s2 = math.log1p((p.sd / p.mean) ** 2)
        x = _truncated(stats.lognorm(math.sqrt(s2), scale=math.exp(math.log(p.mean) - s2 / 2)),
                       lo, hi, u)
    x = np.clip(x, lo, hi)
    if p.kind is int:
        return np.clip(np.round(x), math.ceil(lo), math.floor(hi)).astype(int)
    return np.array([float(f"{v:.{SIGNIFICANT}g}") for v in x])


def sample_draws(names: list[str], n: int, sampler: str = "latin_hypercube", seed: int = 1
                 ) -> pd.DataFrame:
    """``n`` draws of ``names``: columns draw, then one per parameter."""
    if n < 1:
        raise InputError(f"--uncertainty {n}: expected a whole number of draws ≥ 1.")
    reg = registry()
    u = unit_sample(n, len(names), sampler, seed)
    df = pd.DataFrame({"draw": np.arange(n)})
    for j, name in enumerate(names):
        df[name] = to_values(reg[name], u[:, j])
    return df


def read_posterior(path: Path, names: list[str] | None, n: int | None, seed: int,
                   scenarios: list[Scenario], held: dict[str, str] | None = None,
                   where: str | None = None, names_flag: str = "--uncertain-params"
                   ) -> pd.DataFrame:
    """Draws from a calibration posterior: a CSV or Parquet file with one column per registry
    parameter (an optional ``weight`` column; columns that are not dotted names, such as chain
    or objective, and columns starting with ``_`` are ignored). With
    ``n``: ``n`` rows drawn with a seeded generator (with replacement if ``n`` exceeds the rows
    or weights are given); without: every row in file order. ``names`` restricts the columns
    used (--uncertain-params). ``held``: parameters the caller fixes (with the reason), which a
    column may not overrule; ``where`` starts every message (default ``--posterior PATH``)."""
    path = Path(path)
    held = held or {}
    where = where or f"--posterior {path}"
    if not path.is_file():
        raise InputError(f"{where}: file not found. Expected a CSV or Parquet file with one "
                         "column per registry parameter and one row per posterior draw.")
    try:
        raw = (pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq")
               else pd.read_csv(path))
    except Exception as exc:  # noqa: BLE001 - any parse error becomes one paragraph
        raise InputError(f"{where}: cannot be read ({type(exc).__name__}: {exc}). Expected a "
                         "CSV (header row of parameter names) or a Parquet file.") from None
    if raw.empty:
        raise InputError(f"{where}: no rows. Expected one row per posterior draw.")
    reg = registry()
    cols = [str(c) for c in raw.columns if not str(c).startswith("_")
            and str(c) not in IGNORED_POSTERIOR and _PARAM_LIKE.match(str(c))]
    for c in cols:
        if c not in reg:
            raise InputError(f"{where}, column {c!r}: unknown parameter.{suggest(c)} Expected "
                             "registry names (welfare-sim params) for the parameter columns; "
                             "columns without a dot (chain, objective, ...) or starting with "
                             "'_' are ignored.")
        if not _is_drawable(reg[c]):
            raise InputError(f"{where}, column {c!r}: {_why_not(c)}. Expected numeric "
                             "parameters with a plausible range.")
    if names is not None:
        missing = [x for x in names if x not in cols]
        if missing:
            raise InputError(f"{where}: no column {missing[0]!r} (from {names_flag}). "
                             f"Expected one of the file's columns: {', '.join(cols)}.")
        cols = list(names)
    if not cols:
        raise InputError(f"{where}: no parameter columns. Expected one column per registry "
                         "parameter.")
    for c in cols:
        if c in held:
            raise InputError(f"{where}, column {c!r}: {held[c]}, so a draw would overrule it. "
                             "Expected parameters that are not fixed or varied elsewhere; "
                             "drop the column or choose columns with the parameter list.")
        who = set_by_scenario(c, scenarios)
        if who:
            raise InputError(f"{where}, column {c!r}: scenario {who!r} sets this parameter, "
                             "so a draw would overrule the scenario. Expected parameters the "
                             "compared scenarios leave at their registry default.")
        p = reg[c]
        v = pd.to_numeric(raw[c], errors="coerce")
        bad = ~np.isfinite(v.to_numpy(dtype=float)) | (v < p.low) | (v > p.high)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{where}, column {c!r}, row {i + 1}: got {raw[c].iloc[i]}. "
                             f"Expected a number in the plausible range {p.range_text} "
                             f"{p.unit}.")
        if p.kind is int and not np.allclose(v, np.round(v)):
            raise InputError(f"{where}, column {c!r}: expected whole numbers.")
    weights = None
    if "weight" in raw.columns:
        w = pd.to_numeric(raw["weight"], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise InputError(f"{where}, column 'weight': expected non-negative numbers with a "
                             "positive sum.")
        weights = w / w.sum()
    if n is None:
        rows = np.arange(len(raw))
    else:
        if n < 1:
            raise InputError(f"--uncertainty {n}: expected a whole number of draws ≥ 1.")
        rng = np.random.default_rng(seed)
        rows = rng.choice(len(raw), size=n, replace=weights is not None or n > len(raw),
                          p=weights)
    out = pd.DataFrame({"draw": np.arange(len(rows)), "posterior_row": rows})
    for c in cols:
        vals = pd.to_numeric(raw[c]).to_numpy()[rows]
        out[c] = (vals.round().astype(int) if reg[c].kind is int
                  else np.array([float(f"{float(x):.{SIGNIFICANT}g}") for x in vals]))
    return out


def draw_overrides(draws: pd.DataFrame, params: list[str]) -> list[dict[str, Any]]:
    """The overrides of each draw, in draw order (plain Python numbers)."""
    reg = registry()
    return [{p: (int(v) if reg[p].kind is int else float(v)) for p, v in rec.items()}
            for rec in draws[params].to_dict("records")]


def parameter_columns(draws: pd.DataFrame) -> list[str]:
    return [c for c in draws.columns if c not in ("draw", "posterior_row")]


def describe(info: dict[str, Any]) -> str:
    """One sentence on where the draws came from (for the report)."""
    n, params = info.get("draws", "?"), info.get("parameters", [])
    if info.get("posterior"):
        src = f"rows of the posterior file {info['posterior']}"
    elif info.get("sampler"):
        src = (f"a {info['sampler'].replace('_', ' ')} (seed {info.get('uncertainty_seed', 1)}) "
               "over the registry's plausible ranges, each parameter through its declared "
               "distribution (uniform unless the registry says otherwise)")
    else:
        src = "a table of draws given by the caller"
    return f"{n} draws of {len(params)} parameters from {src}"


def prepare(scenarios: list[Scenario], n: int | None, patterns: list[str] | None,
            posterior: Path | None, seed: int | None, sampler: str | None,
            held: dict[str, str] | None = None, labels: dict[str, str] | None = None
            ) -> tuple[pd.DataFrame | None, dict[str, Any] | None]:
    """The draws and their description for ``compare`` from its flags; (None, None) without
    --uncertainty and --posterior. Every inconsistent combination is an InputError.

    ``held``: parameters the caller fixes itself (an experiment's design varies them), with the
    reason; never drawn. ``labels``: how messages name --uncertain-params and --posterior (an
    experiment file names its own keys instead)."""
    labels = labels or {}
    params_flag = labels.get("--uncertain-params", "--uncertain-params")
    if n is None and posterior is None:
        for flag, v in (("--uncertain-params", patterns), ("--uncertainty-seed", seed),
                        ("--sampler", sampler)):
            if v is not None:
                raise InputError(f"{flag} needs --uncertainty N (parameter draws) or "
                                 "--posterior FILE. Expected e.g. --uncertainty 20 "
                                 f"{flag} ....")
        return None, None
    if n is not None and (isinstance(n, bool) or n < 1):
        raise InputError(f"--uncertainty {n}: expected a whole number of draws ≥ 1 (e.g. 20).")
    if posterior is not None and sampler is not None:
        raise InputError("--sampler chooses how draws cover the registry ranges; it does not "
                         "apply to --posterior, whose rows are the draws. Expected one of the "
                         "two.")
    seed = 1 if seed is None else seed
    if seed < 0:
        raise InputError(f"--uncertainty-seed {seed}: expected a whole number ≥ 0.")
    if posterior is not None:
        draws = read_posterior(Path(posterior), None if patterns is None else
                               uncertain_names(patterns, params_flag), n, seed, scenarios,
                               held, labels.get("--posterior"), params_flag)
        params = parameter_columns(draws)
        info = {"draws": len(draws), "parameters": params, "posterior": str(posterior),
                "uncertainty_seed": seed, "sampler": None, "held_by_scenarios": []}
        return draws, info
    sampler = sampler or "latin_hypercube"
    if sampler not in SAMPLERS:
        raise InputError(f"--sampler {sampler!r}: unknown. Expected one of "
                         f"{', '.join(SAMPLERS)}.")
    params, skipped = uncertain_parameters(patterns, scenarios, params_flag, held)
    assert n is not None
    draws = sample_draws(params, n, sampler, seed)
    reg = registry()
    info = {"draws": n, "parameters": params, "posterior": None, "uncertainty_seed": seed,
            "sampler": sampler, "held_by_scenarios": skipped,
            "distributions": {p: {"distribution": reg[p].distribution or "uniform",
                                  "low": reg[p].low, "high": reg[p].high,
                                  "mode": reg[p].mode, "mean": reg[p].mean, "sd": reg[p].sd}
                              for p in params}}
    return draws, info


def uncertain_names(patterns: list[str], flag: str = "--uncertain-params") -> list[str]:
    """Plain registry names from --uncertain-params (for --posterior: no globs)."""
    out = []
    for p in patterns:
        for x in str(p).split(","):
            x = x.strip()
            if not x:
                continue
            if any(c in x for c in "*?["):
                raise InputError(f"{flag} {x!r}: with a posterior file, expected column "
                                 "names of the posterior file, not globs.")
            out.append(x)
    return out
