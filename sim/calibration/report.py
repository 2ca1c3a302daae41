"""The outputs of a calibration: calibrated.toml, fit.csv, fit.md, fit.png, trials.csv and
manifest.json. Every file is a pure function of the config and the database content, so an
interrupted and resumed calibration writes the same bytes as an uninterrupted one."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

from sim.calibration.config import CalibrationConfig
from sim.calibration.evaluate import objective, relative_errors
from sim.calibration.search import Outcome

KIND = "welfare-sim calibration"


def _num(x: float | None) -> str:
    return "" if x is None else repr(float(x))


def fit_rows(cfg: CalibrationConfig, res: Outcome) -> list[dict[str, Any]]:
    rel = relative_errors(cfg.targets, res.model)
    rows = []
    for t, m, e in zip(cfg.targets, res.model, rel, strict=True):
        rows.append({"target": t.name, "metric": t.metric, "year": t.year, "unit": t.unit,
                     "reference": t.value, "model": m, "rel_error": e,
                     "role": "holdout" if t.holdout else "fitted",
                     "tolerance_rel": t.tolerance_rel, "within_tolerance": abs(e) <= t.tolerance_rel,
                     "weight": t.weight, "source": t.source})
    return rows


def fit_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = list(rows[0])
    w.writerow(cols)
    for r in rows:
        w.writerow([_num(r[c]) if isinstance(r[c], float) else
                    str(r[c]).lower() if isinstance(r[c], bool) else r[c] for c in cols])
    return buf.getvalue()


def trials_csv(cfg: CalibrationConfig, res: Outcome) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["trial", "state", "objective", *[p.name for p in cfg.parameters],
                *[f"model:{t.name}" for t in cfg.targets], "rerun_objective", "chosen",
                "error"])
    reruns = {t.number: a for t, a in res.candidates}
    for t in res.trials:
        model = t.user_attrs.get("model") or [None] * len(cfg.targets)
        ra = reruns.get(t.number, {})
        w.writerow([t.number, t.state.name.lower(), _num(t.value if t.values else None),
                    *[_num(t.params.get(p.name)) for p in cfg.parameters],
                    *[_num(m) for m in model], _num(ra.get("objective")),
                    "true" if t.number == res.chosen.number else "false",
                    t.user_attrs.get("error", "")])
    return buf.getvalue()


def _pct(x: float) -> str:
    return f"{x:+.1%}"


def _fmt(x: float) -> str:
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 0.1:
        return f"{x:.3f}"
    return f"{x:.4g}"


def summary_stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for role in ("fitted", "holdout"):
        rs = [r for r in rows if r["role"] == role]
        if rs:
            errs = [abs(r["rel_error"]) for r in rs]
            out[role] = {"targets": len(rs), "mean_abs_rel_error": sum(errs) / len(errs),
                         "max_abs_rel_error": max(errs),
                         "within_tolerance": sum(r["within_tolerance"] for r in rs)}
    return out


def fit_md(cfg: CalibrationConfig, res: Outcome, rows: list[dict[str, Any]],
           command: str) -> str:
    stats = summary_stats(rows)
    chosen = res.chosen
    rerun_obj = next(a["objective"] for t, a in res.candidates if t.number == chosen.number)
    lines = [f"# Calibration fit: {cfg.name}", ""]
    if cfg.description:
        lines += [cfg.description, ""]
    lines += [
        f"`{command}` — base scenario `{cfg.scenario_path.name}`"
        + (f" under the {cfg.paradigm} paradigm" if cfg.paradigm else "")
        + f", population scale {cfg.population_scale:g}, seed {cfg.seed}.",
        f"{cfg.trials} Optuna TPE trials × {cfg.replications} replications (batches of "
        f"{cfg.batch}); the best {cfg.rerun_top} re-run {cfg.rerun_replications} times on fresh "
        f"seeds; chosen: trial {chosen.number} (search objective {chosen.value:.4f}, re-run "
        f"objective {rerun_obj:.4f}). Objective: weighted mean |model / reference − 1| over "
        "the fitted targets.", ""]
    for role, label in (("fitted", "Fitted"), ("holdout", "Out-of-sample (holdout)")):
        if role in stats:
            s = stats[role]
            lines.append(f"- {label} targets: {s['targets']}, mean |error| "
                         f"{s['mean_abs_rel_error']:.1%}, largest {s['max_abs_rel_error']:.1%}, "
                         f"{s['within_tolerance']} of {s['targets']} within tolerance.")
    lines += ["", "## Targets", "",
              "| target | year | reference | model | error | role | within ± | source |",
              "|---|---|---:|---:|---:|---|---|---|"]
    for r in rows:
        ok = "yes" if r["within_tolerance"] else "**no**"
        lines.append(f"| `{r['target']}` ({r['metric']}, {r['unit']}) | {r['year']} | "
                     f"{_fmt(r['reference'])} | {_fmt(r['model'])} | {_pct(r['rel_error'])} | "
                     f"{r['role']} | {ok} ({r['tolerance_rel']:.0%}) | {r['source']} |")
    lines += ["", "## Fitted parameters", "",
              "| parameter | fitted | search bounds | registry range | default |",
              "|---|---:|---|---|---:|"]
    for p in cfg.parameters:
        lines.append(f"| `{p.name}` | {res.values[p.name]:.6g} | {p.low:g} – {p.high:g}"
                     f"{' (log)' if p.log else ''} | {p.registry_low:g} – {p.registry_high:g} | "
                     f"{p.default:g} |")
    lines += ["", "## Best candidates re-run on fresh seeds", "",
              "| trial | search objective | re-run objective |", "|---:|---:|---:|"]
    for t, a in res.candidates:
        ro = "failed" if a.get("objective") is None else f"{a['objective']:.4f}"
        mark = " (chosen)" if t.number == chosen.number else ""
        lines.append(f"| {t.number}{mark} | {t.value:.4f} | {ro} |")
    lines += ["", "Model values are means over the re-runs of the chosen trial; a target is "
              "within tolerance when |model / reference − 1| ≤ its tolerance. Holdout targets "
              "were not used in the search: their errors are out-of-sample checks.", ""]
    return "\n".join(lines)


def calibrated_toml(cfg: CalibrationConfig, res: Outcome, rows: list[dict[str, Any]],
                    extends: str, command: str) -> str:
    def q(s: str) -> str:
        return json.dumps(s, ensure_ascii=False)

    lines = [f"# Calibrated overlay of {cfg.scenario_path.name}, written by `{command}`.",
             f"# Chosen trial {res.chosen.number} of {cfg.trials} (seed {cfg.seed}); see fit.md "
             "beside this file.", "#", "# Fitted to these targets (reference value, source):"]
    for t, r in zip(cfg.targets, rows, strict=True):
        if not t.holdout:
            lines.append(f"#   {t.name}: {t.metric} {t.year} = {t.value:g} {t.unit} "
                         f"(model {_fmt(r['model'])}, {_pct(r['rel_error'])}) — {t.source}")
    held = [t for t in cfg.targets if t.holdout]
    if held:
        lines.append("# Out-of-sample checks (not fitted):")
        for t, r in zip(cfg.targets, rows, strict=True):
            if t.holdout:
                lines.append(f"#   {t.name}: {t.metric} {t.year} = {t.value:g} {t.unit} "
                             f"(model {_fmt(r['model'])}, {_pct(r['rel_error'])}) — {t.source}")
    lines += [f"# Calibrated at population scale {cfg.population_scale:g}; per-person results "
              "do not depend on the scale.", "",
              f"name = {q(cfg.scenario.name + ' (calibrated)')}",
              f"description = {q('Calibrated by welfare-sim calibrate (' + cfg.name + ').')}",
              f"extends = {q(extends)}"]
    if cfg.paradigm:
        lines.append(f"paradigm = {q(cfg.paradigm)}  # the paradigm the fit was made under")
    lines += ["", "[parameters]"]
    for p in cfg.parameters:
        v = res.values[p.name]
        lines.append(f"# search bounds {p.low:g} – {p.high:g}; registry range "
                     f"{p.registry_low:g} – {p.registry_high:g}; default {p.default:g}")
        lines.append(f"{q(p.name)} = {int(v) if p.integer else repr(float(v))}")
    return "\n".join(lines) + "\n"


def copy_base(cfg: CalibrationConfig, dest: Path) -> str:
    """Make the base scenario reachable from ``dest``/calibrated.toml and return the
    ``extends`` value: bundled files by name, other files copied under base/."""
    from sim.scenario import BUNDLED_DIR

    bundled = BUNDLED_DIR.resolve()
    base = cfg.scenario_path.resolve()
    if base.parent == bundled:
        return base.name
    root = base.parent
    for f in cfg.scenario.chain:
        real = Path(f).resolve()
        if real.is_relative_to(bundled) and not real.is_relative_to(root):
            continue
        rel = real.relative_to(root) if real.is_relative_to(root) else Path(real.name)
        target = dest / "base" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(real, target)
    return (Path("base") / base.name).as_posix()


def fit_png(cfg: CalibrationConfig, res: Outcome, rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(rows)
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.42 * n))
    for i, (t, r) in enumerate(zip(cfg.targets, rows, strict=True)):
        y = n - 1 - i
        ax.add_patch(plt.Rectangle((-t.tolerance_rel, y - 0.35), 2 * t.tolerance_rel, 0.7,
                                   color="#dddddd", zorder=0))
        per_run = [run[i] / t.value - 1 for run in res.runs]
        colour = "#1b9e77" if not t.holdout else "#d95f02"
        ax.plot([min(per_run), max(per_run)], [y, y], color=colour, lw=1.5, zorder=2)
        ax.plot(r["rel_error"], y, "o" if not t.holdout else "D", color=colour, zorder=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"{r['target']} ({r['year']})" for r in reversed(rows)], fontsize=8)
    ax.set_xlabel("model / reference − 1 (grey: tolerance; line: range over re-runs)")
    ax.plot([], [], "o", color="#1b9e77", label="fitted")
    ax.plot([], [], "D", color="#d95f02", label="holdout (out of sample)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"Calibration: {cfg.name}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def manifest(cfg: CalibrationConfig, res: Outcome, rows: list[dict[str, Any]]) -> dict[str, Any]:
    from importlib import metadata

    from sim.runner import git_commit, package_versions

    versions = package_versions()
    for name in ("optuna", "sqlalchemy"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "kind": KIND,
        "name": cfg.name,
        "config_file": str(cfg.path),
        "config_hash": cfg.hash,
        "targets_file": str(cfg.targets_path),
        "scenario_files": cfg.scenario.chain,
        "scenario_hash": cfg.scenario.hash,
        "paradigm": cfg.paradigm,
        "population_scale": cfg.population_scale,
        "seed": cfg.seed,
        "sampler": "optuna TPESampler (independent), seeded per trial and parameter",
        "trials": cfg.trials,
        "replications": cfg.replications,
        "batch": cfg.batch,
        "startup_trials": cfg.startup_trials,
        "rerun": {"top": cfg.rerun_top, "replications": cfg.rerun_replications},
        "chosen_trial": res.chosen.number,
        "fitted": res.values,
        "objective_search": res.chosen.value,
        "objective_rerun": objective(cfg.targets, res.model),
        "fit": summary_stats(rows),
        "versions": versions,
        "git_commit": git_commit(),
        "config_text": cfg.text,
        "targets_text": cfg.targets_text,
    }


def write_all(cfg: CalibrationConfig, res: Outcome, dest: Path, command: str) -> None:
    """Write every output into ``dest`` (the work folder, renamed into place afterwards)."""
    from sim.scenario import load_scenario

    rows = fit_rows(cfg, res)
    extends = copy_base(cfg, dest)
    (dest / "calibrated.toml").write_text(calibrated_toml(cfg, res, rows, extends, command),
                                          encoding="utf-8")
    check = load_scenario(dest / "calibrated.toml")  # the overlay must load as a scenario
    for p in cfg.parameters:
        if check.value(p.name) != res.values[p.name]:
            raise RuntimeError(f"calibrated.toml does not reproduce {p.name}")
    (dest / "fit.csv").write_text(fit_csv(rows), encoding="utf-8")
    (dest / "fit.md").write_text(fit_md(cfg, res, rows, command), encoding="utf-8")
    (dest / "trials.csv").write_text(trials_csv(cfg, res), encoding="utf-8")
    fit_png(cfg, res, rows, dest / "fit.png")
    (dest / "manifest.json").write_text(json.dumps(manifest(cfg, res, rows), indent=2,
                                                   ensure_ascii=False) + "\n", encoding="utf-8")
