"""The search: Optuna's TPE sampler over the fitted parameters, trials stored in SQLite.

Determinism (the same result for a seed whatever the worker count, and after a resume):

* trials are proposed in batches of a fixed size (``batch`` in the config, not the worker
  count); a batch is evaluated (in parallel) and its results told in trial order before the
  next batch is proposed, so every proposal sees the same history;
* each parameter of each trial is drawn by a sampler seeded from (seed, trial, parameter), so
  a proposal depends on the history and those numbers only, not on the sampler's past;
* on resume, trials left running by the interrupted process keep the values already stored
  and draw the missing ones as above, then are evaluated again (runs are deterministic);
* every output is made from what was read back from the database.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import time
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration.config import CalibrationConfig
from sim.calibration.evaluate import (
    mean_over_replications,
    objective,
    run_seed,
    target_values,
)

Log = Callable[[str], None]
STUDY = "calibration"
SEARCH_STAGE, RERUN_STAGE = 1, 2


@dataclass
class Counter:
    """Runs done by this process (for timing.json and progress lines)."""

    runs: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


# ------------------------------------------------------------------ evaluation
_CFG: CalibrationConfig | None = None


def _init_worker(cfg: CalibrationConfig, pool: bool = False) -> None:
    global _CFG
    _CFG = cfg
    warnings.filterwarnings("ignore")
    if pool:  # Ctrl-C stops the calibration in the parent; workers finish their run quietly
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _task(job: tuple[Any, dict[str, float], int]) -> tuple[Any, list[float] | str]:
    key, values, seed = job
    assert _CFG is not None
    try:
        return key, target_values(_CFG, values, seed)
    except Exception as exc:  # a run that fails fails its trial, not the calibration
        return key, f"{type(exc).__name__}: {exc}"


class Evaluator:
    """Runs (key, values, seed) jobs in this process or in a spawn pool."""

    def __init__(self, cfg: CalibrationConfig, workers: int) -> None:
        self.cfg, self.workers = cfg, workers
        self.pool: ProcessPoolExecutor | None = None

    def map(self, jobs: list[tuple[Any, dict[str, float], int]]) -> dict[Any, Any]:
        if self.workers <= 1 or len(jobs) <= 1:
            _init_worker(self.cfg)
            return dict(_task(j) for j in jobs)
        if self.pool is None:
            self.pool = ProcessPoolExecutor(self.workers,
                                            mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_init_worker, initargs=(self.cfg, True))
        return dict(self.pool.map(_task, jobs))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


# ------------------------------------------------------------------ study
def _optuna():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def open_study(db: Path):
    optuna = _optuna()
    storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
    return optuna.create_study(study_name=STUDY, storage=storage, direction="minimize",
                               load_if_exists=True)


def close_study(study) -> None:
    engine = getattr(study._storage, "engine", None)
    if engine is not None:
        engine.dispose()


def _sub_seed(seed: int, *parts: int) -> int:
    return int(np.random.SeedSequence([seed, *parts]).generate_state(1)[0])


def _sampler(cfg: CalibrationConfig, trial_number: int, part: int):
    """A TPE sampler seeded from (seed, trial, part): part -1 draws the joint (multivariate)
    proposal, part i the i-th parameter when it is drawn on its own (startup trials)."""
    optuna = _optuna()
    return optuna.samplers.TPESampler(
        seed=_sub_seed(cfg.seed, 3, trial_number, part + 1), n_startup_trials=cfg.startup_trials,
        multivariate=True, constant_liar=False)


def _new_trial(study, cfg: CalibrationConfig, number: int, trial_id: int | None):
    """Ask for trial ``number`` (or reopen the running one with ``trial_id``) and draw its
    joint proposal with the sampler of that trial."""
    optuna = _optuna()
    study.sampler = _sampler(cfg, number, -1)
    trial = study.ask() if trial_id is None else optuna.trial.Trial(study, trial_id)
    trial.relative_params  # noqa: B018  (drawn now, with this trial's sampler)
    return trial


def _suggest(study, trial, cfg: CalibrationConfig) -> dict[str, float]:
    values: dict[str, float] = {}
    for i, p in enumerate(cfg.parameters):
        study.sampler = _sampler(cfg, trial.number, i)
        if p.integer:
            values[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
        else:
            values[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log)
    return values


def _batches(cfg: CalibrationConfig) -> Iterable[range]:
    for start in range(0, cfg.trials, cfg.batch):
        yield range(start, min(start + cfg.batch, cfg.trials))


def run_search(study, cfg: CalibrationConfig, ev: Evaluator, counter: Counter,
               log: Log) -> None:
    """Propose, run and record every trial not yet finished."""
    State = _optuna().trial.TrialState
    reps = cfg.replications
    if cfg.start_at_base and not study.get_trials(deepcopy=False):
        from sim.calibration.config import base_values

        study.enqueue_trial(base_values(cfg))  # becomes trial 0
    for numbers in _batches(cfg):
        have = {t.number: t for t in study.get_trials(deepcopy=False)}
        live: dict[int, tuple[Any, dict[str, float]]] = {}
        for n in numbers:
            old = have.get(n)
            if old is not None and old.state.is_finished():
                continue
            running = old is not None and old.state == State.RUNNING
            # a waiting trial (the enqueued base values) is taken by ask(), as a new one is
            trial = _new_trial(study, cfg, n, old._trial_id if running else None)
            if trial.number != n:  # cannot happen: trials are asked in order
                raise RuntimeError(f"calibration database out of order: trial {trial.number} "
                                   f"where {n} was expected")
            live[n] = (trial, _suggest(study, trial, cfg))
        if not live:
            continue
        jobs = [((n, r), values, run_seed(cfg.seed, SEARCH_STAGE, r))
                for n, (_, values) in live.items() for r in range(reps)]
        results = ev.map(jobs)
        counter.runs += len(jobs)
        for n in sorted(live):
            trial, _ = live[n]
            runs = [results[(n, r)] for r in range(reps)]
            errors = [r for r in runs if isinstance(r, str)]
            if errors:
                trial.set_user_attr("error", errors[0])
                study.tell(trial, state=State.FAIL)
                continue
            model = mean_over_replications(runs)
            trial.set_user_attr("model", model)
            study.tell(trial, objective(cfg.targets, model))
        _progress(study, cfg, counter, log)


def _progress(study, cfg: CalibrationConfig, counter: Counter, log: Log) -> None:
    State = _optuna().trial.TrialState
    trials = study.get_trials(deepcopy=False)
    done = sum(t.state.is_finished() for t in trials)
    ok = [t for t in trials if t.state == State.COMPLETE]
    best = min(ok, key=lambda t: (t.value, t.number)) if ok else None
    rate = counter.runs / counter.seconds if counter.seconds > 0 else 0.0
    best_text = f"best objective {best.value:.4f} (trial {best.number})" if best else "no " \
        "successful trial yet"
    left = (cfg.trials - done) * cfg.replications + cfg.rerun_top * cfg.rerun_replications
    eta = f", about {left / rate / 60:.0f} min left" if rate > 0 else ""
    log(f"trials {done}/{cfg.trials}: {best_text}; {counter.runs} runs in "
        f"{counter.seconds:.0f} s ({rate * 60:.1f} runs/min{eta})")


def ranked(study) -> list:
    """Finished trials with a value, best first (ties: lower trial number)."""
    State = _optuna().trial.TrialState
    ok = [t for t in study.get_trials(deepcopy=False, states=(State.COMPLETE,))]
    return sorted(ok, key=lambda t: (t.value, t.number))


def run_reruns(study, cfg: CalibrationConfig, ev: Evaluator, counter: Counter,
               log: Log) -> None:
    """Re-run the best ``rerun.top`` trials on fresh seeds; results kept as study attributes."""
    top = ranked(study)[:cfg.rerun_top]
    if not top:
        errors = [t.user_attrs.get("error") for t in study.get_trials(deepcopy=False)]
        first = next((e for e in errors if e), "no trial finished")
        from sim.errors import WelfareSimError

        raise WelfareSimError(f"{cfg.path}: every calibration trial failed (first error: "
                              f"{first}). Expected runs that finish; check the scenario and the "
                              "parameter bounds.")
    todo = [t for t in top if f"rerun.{t.number}" not in study.user_attrs]
    if not todo:
        return
    log(f"re-running the best {len(top)} trial(s) {cfg.rerun_replications} times on fresh "
        f"seeds ({len(todo) * cfg.rerun_replications} runs)")
    reps = cfg.rerun_replications
    jobs = [((t.number, r), _values(t, cfg), run_seed(cfg.seed, RERUN_STAGE, r))
            for t in todo for r in range(reps)]
    results = ev.map(jobs)
    counter.runs += len(jobs)
    for t in todo:
        runs = [results[(t.number, r)] for r in range(reps)]
        errors = [r for r in runs if isinstance(r, str)]
        if errors:
            attr = {"error": errors[0], "objective": None, "model": None, "runs": None}
        else:
            model = mean_over_replications(runs)
            attr = {"objective": objective(cfg.targets, model), "model": model, "runs": runs}
        study.set_user_attr(f"rerun.{t.number}", attr)
    log(f"re-runs done; {counter.runs} runs in {counter.seconds:.0f} s")


def _values(trial, cfg: CalibrationConfig) -> dict[str, float]:
    return {p.name: trial.params[p.name] for p in cfg.parameters}


@dataclass
class Outcome:
    """What the outputs are made from (all read back from the database)."""

    chosen: Any                      # the FrozenTrial chosen
    values: dict[str, float]         # its parameter values
    model: list[float]               # mean of its re-runs, per target
    runs: list[list[float]]          # each re-run, per target
    candidates: list[tuple[Any, dict[str, Any]]]  # (trial, rerun attr), best search first
    trials: list[Any]                # every trial, by number


def outcome(study, cfg: CalibrationConfig) -> Outcome:
    top = ranked(study)[:cfg.rerun_top]
    cands = [(t, study.user_attrs[f"rerun.{t.number}"]) for t in top]
    good = [(t, a) for t, a in cands if a.get("objective") is not None
            and math.isfinite(a["objective"])]
    if not good:
        from sim.errors import WelfareSimError

        raise WelfareSimError(f"{cfg.path}: every re-run of the best trials failed "
                              f"({cands[0][1].get('error')}). Expected runs that finish.")
    chosen, attr = min(good, key=lambda ta: (ta[1]["objective"], ta[0].number))
    return Outcome(chosen, _values(chosen, cfg), attr["model"], attr["runs"], cands,
                   sorted(study.get_trials(deepcopy=True), key=lambda t: t.number))
