"""What a run measures each tick (docs/design.md §6): one row per tick, one column per metric.

Everything is computed from the tick's arrays (no scans over agent objects). ``METRICS`` names
each column with its unit; docs/metrics.md is generated from it.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.allocation import rowsum
from sim.mechanisms.base import CELL_NAMES, CS_LED, NG, THICK, THIN, THIN_OUTSIDE
from sim.mechanisms.cocreation import HIGH_RESOURCE, LOW_RESOURCE
from sim.mechanisms.finance import COST_PARTS, REVENUE_PARTS
from sim.mechanisms.workforce import fte_needed, home_fte, institution_fte

AGE_GROUPS = {"0-19": (0, 19), "20-66": (20, 66), "67-79": (67, 79), "80-89": (80, 89),
              "90+": (90, 105), "80+": (80, 105)}
# age bands of the service-use statistics (SSB, IPLOS): band index by single-year age
USE_BANDS = ("0-66", "67-79", "80-89", "90+")
CARE_DOMAINS = np.array([1, 1, 1, 1, 0], dtype=np.float32)  # home care: all but child welfare
BAND_OF_AGE = np.digitize(np.arange(106), [67, 80, 90]).astype(np.intp)

COST_TEXT = {
    "cost_wages_direct": "wages of own professionals' hours in direct service",
    "cost_wages_admin": "wages of professional hours in assessment, documentation and control",
    "cost_wages_facilitation": "wages of professional hours facilitating co-creation",
    "cost_wages_indirect": "wages of professional hours in travel and indirect work",
    "cost_wages_idle": "wages of professional hours not used",
    "cost_sick_pay": "pay of professionals on sick leave",
    "cost_contracts": "payments to contracted providers for their hours (NPM purchasing)",
    "cost_transaction": "cost of tendering and contract management (share of contracts)",
    "cost_overhead": "overhead per professional FTE (premises, management, equipment)",
    "cost_facilitation_nonwage": "non-wage cost of running co-creation processes",
    "cost_institutions": "cost of nursing-home places",
    "cost_volunteer_support": "support and coordination of volunteers",
    "cost_innovation": "cost of developing new ideas",
    "revenue_tax": "tax revenue from inhabitants aged 20-66 attributed to care",
    "revenue_grants": "central-government grants (per inhabitant and per inhabitant 80+)",
    "revenue_fees": "user fees for home-help hours and nursing-home places",
}
assert set(COST_TEXT) == set(COST_PARTS) | set(REVENUE_PARTS)

# who designs or produces, in the 3x3 co-creation matrix (docs/design.md §3)
_WHO = {"professional": "professionals", "joint": "professionals and civil society together",
        "civil_society": "civil society (citizens, family, volunteers)"}
METRICS: list[tuple[str, str, str]] = [
    ("year", "year", "calendar year"),
    ("month", "month", "calendar month 1-12"),
    ("weight_traditional", "share", "weight of the traditional paradigm"),
    ("weight_npm", "share", "weight of NPM"),
    ("weight_network_governance", "share", "weight of network governance"),
    ("population", "persons", "inhabitants (agents / population_scale)"),
    *[(f"pop_{g}", "persons", f"inhabitants aged {g}") for g in AGE_GROUPS],
    ("births", "persons", "births this tick"),
    ("deaths", "persons", "deaths this tick"),
    ("immigrants", "persons", "arrivals this tick"),
    ("emigrants", "persons", "departures this tick"),
    ("share_80plus", "share", "share of inhabitants aged 80+"),
    ("dependency_ratio", "ratio", "inhabitants 67+ per inhabitant 20-66"),
    ("persons_with_need", "persons", "inhabitants with a need in any domain"),
    ("need_hours", "hours/month", "demand: need-hours this month"),
    *[(f"need_hours_{d}", "hours/month", f"need-hours in {d}") for d in (
        "practical_help", "personal_care", "nursing", "social_inclusion", "children_youth")],
    ("hours_professional", "hours/month", "need-hours met by professionals (incl. institutions)"),
    ("hours_institution", "hours/month", "need-hours met in institutions"),
    ("hours_volunteer", "hours/month", "need-hours met by volunteers"),
    ("hours_informal", "hours/month", "need-hours met by family carers and citizens themselves"),
    ("hours_delivered", "hours/month", "need-hours met, all sources"),
    ("hours_coproduced", "hours/month", "volunteer + informal hours"),
    ("hours_available_professional", "hours/month", "professional working hours available"),
    ("hours_available_volunteer", "hours/month", "volunteer hours offered (x motivation)"),
    ("hours_available_informal", "hours/month", "family and own hours available to the needy"),
    ("unmet_need_hours", "hours/month", "need-hours not met"),
    ("coverage", "share", "need-hours met / need-hours"),
    ("persons_waiting", "persons", "home-care cases with under half their need met"),
    ("persons_waiting_place", "persons", "people who need a nursing-home place and have none"),
    ("mean_wait_months", "months", "mean months waited by those waiting"),
    ("quality", "share", "mean quality (fit x continuity x timeliness) of served citizens"),
    ("fit", "share", "mean fit of services to needs, served citizens"),
    ("competence", "share", "hour-weighted competence of the help received (lay hours weighted "
     "by domain), served citizens"),
    ("fit_niche", "share", "mean fit for citizens with niche-ness above 0.5"),
    ("satisfaction", "share", "mean satisfaction of citizens with needs"),
    ("trust", "share", "mean trust in the municipality, all inhabitants"),
    ("expectation", "share", "mean expected quality, all inhabitants"),
    ("effective_coverage", "share", "need-hours met x fit / need-hours (outcome coverage)"),
    ("coverage_low_resource", "share", "effective coverage of citizens with resources < 0.4"),
    ("coverage_high_resource", "share", "effective coverage of citizens with resources > 0.6"),
    ("coverage_gap_resource", "share", "effective coverage high-resource minus low-resource"),
    ("quality_gap_resource", "share", "quality high-resource minus low-resource"),
    ("coverage_gap_cultural", "share", "effective coverage, low minus high cultural distance"),
    ("coverage_gini", "index", "Gini coefficient of coverage among citizens with needs"),
    ("professionals", "FTE", "professional headcount (FTE) in home-based services"),
    ("fte_institutions", "FTE", "FTE in institutions"),
    ("fte_per_1000", "FTE/1,000", "all care FTE per 1,000 inhabitants"),
    ("share_working_age_in_care", "share", "care FTE / inhabitants 20-66"),
    ("fte_need", "FTE", "FTE the month's demand called for (incl. facilitation, sick leave, "
     "staffing margin and institutions)"),
    ("fte_gap", "FTE", "fte_need minus care FTE (home-based and institutional); > 0 is a shortage"),
    ("hours_direct", "hours/month", "professional hours in direct service"),
    ("hours_admin", "hours/month", "professional hours in assessment, documentation, control"),
    ("hours_facilitation", "hours/month", "professional hours facilitating co-creation"),
    ("hours_idle", "hours/month", "professional hours not used"),
    ("share_admin", "share", "admin / (direct + admin + facilitation) professional hours"),
    ("strain", "share", "mean professional strain"),
    ("sick_leave_rate", "share", "share of professionals on sick leave"),
    ("turnover", "persons", "professionals leaving this tick"),
    ("hires", "persons", "professionals hired this tick"),
    ("handovers", "persons", "citizens handed to a new contact professional (theirs left)"),
    ("family_care_hours", "hours/month", "hours given by family carers (informal less self-help)"),
    ("carers", "persons", "family carers who gave care this month"),
    ("carers_heavy", "persons", "family carers giving more than informal.work_loss_threshold_hours"),
    ("carer_hours_per_carer", "hours/month", "mean monthly hours per family carer"),
    ("carer_strain", "share", "mean strain of family carers (hours / (hours + half-strain hours))"),
    ("carer_lost_work_hours", "hours/month", "paid work given up by carers aged 20-66"),
    ("volunteers", "persons", "active volunteers"),
    ("volunteer_motivation", "share", "mean volunteer motivation"),
    ("volunteers_quit", "persons", "volunteers stopping this tick (excl. deaths)"),
    ("processes_thick", "processes", "active thick co-creation processes"),
    ("processes_thin", "processes", "active thin processes (incl. produced outside professions)"),
    ("processes_civil_society_led", "processes", "active processes led by civil society"),
    ("new_processes", "processes", "processes started this tick"),
    ("participation_low_resource", "share", "share of NG-route low-resource needy in a process"),
    ("participation_high_resource", "share", "share of NG-route high-resource needy in a process"),
    *[(name, "share", f"co-creation matrix cell: share of the tick's delivered hours produced "
       f"by {_WHO[name.split('_design_')[0][len('cell_prod_'):]]} and designed by "
       f"{_WHO[name.split('_design_')[1]]}")
      for name in CELL_NAMES],
    ("innovations_new", "ideas", "new ideas this tick"),
    ("innovations_useful", "ideas", "ideas found useful this tick"),
    ("innovations_utilised", "ideas", "ideas taken into use this tick"),
    ("innovations_utilised_total", "ideas", "ideas in use"),
    ("productivity", "ratio", "need-hours met per professional hour (innovation)"),
    ("fit_bonus", "share", "fit added by innovations"),
    ("institution_places", "places", "nursing-home places"),
    ("institution_residents", "persons", "residents in nursing homes"),
    ("residents_share_80plus", "share", "share of nursing-home residents aged 80+"),
    *[(f"residents_per_1000_{g}", "persons/1,000", f"nursing-home residents per 1,000 aged {g}")
      for g in USE_BANDS],
    ("home_care_users", "persons",
     "home-dwellers receiving professional hours in the care domains (not child welfare)"),
    *[(f"home_care_share_{g}", "share", f"share of inhabitants aged {g} receiving home care")
      for g in USE_BANDS],
    *[(f"home_hours_per_user_week_{g}", "hours/week",
       f"professional need-hours a week per home-care user aged {g}") for g in USE_BANDS],
    ("care_users_per_1000", "persons/1,000",
     "home-care users and nursing-home residents per 1,000 inhabitants"),
    ("family_care_ratio", "ratio", "family carers' hours / professional home-care hours"),
    ("volunteer_hours_per_1000", "hours/month per 1,000",
     "volunteer hours offered (x motivation) per 1,000 inhabitants"),
    *[(k, "NOK/month", COST_TEXT[k]) for k in COST_PARTS],
    ("cost_total", "NOK/month", "total cost, the sum of the cost parts"),
    *[(k, "NOK/month", COST_TEXT[k]) for k in REVENUE_PARTS],
    ("revenue_total", "NOK/month", "total revenue"),
    ("fiscal_gap", "NOK/month", "cost_total - revenue_total"),
    ("budget", "NOK/month", "care budget (share of revenue, less repayment of past overruns)"),
    ("budget_repayment", "NOK/month", "past budget overruns paid back out of this budget"),
    ("carer_lost_tax", "NOK/month", "tax lost on the paid work family carers gave up "
     "(already taken off revenue_tax)"),
    ("cost_per_inhabitant", "NOK/year", "cost_total x 12 / population"),
    ("cost_per_need_hour_met", "NOK/hour", "cost_total / hours_delivered"),
    ("cost_per_care_user", "NOK/year", "cost_total x 12 / (home-care users + residents)"),
]
METRIC_NAMES = [m[0] for m in METRICS]
INDEX = {name: i for i, name in enumerate(METRIC_NAMES)}


def _mean(x: np.ndarray, w: np.ndarray | None = None) -> float:
    if len(x) == 0:
        return 0.0
    if w is None:
        return float(x.mean())
    s = w.sum()
    return float((x * w).sum() / s) if s > 0 else 0.0


def _group_means(x: np.ndarray, w: np.ndarray, group: np.ndarray, k: int) -> np.ndarray:
    """Weighted mean of ``x`` in each of ``k`` groups (0 where a group has no weight)."""
    group = group.astype(np.intp)
    tot = np.bincount(group, weights=w, minlength=k)
    s = np.bincount(group, weights=x * w, minlength=k)
    return np.divide(s, tot, out=np.zeros(k), where=tot > 0)


def gini(x: np.ndarray) -> float:
    if len(x) == 0 or x.sum() <= 0:
        return 0.0
    s = np.sort(x.astype(np.float64))
    n = len(s)
    # an elementwise product and numpy sum, not a BLAS dot (whose threads change the order)
    return float(((2 * np.arange(1, n + 1) - n - 1) * s).sum() / (n * s.sum()))


def collect(model, ts) -> np.ndarray:
    """One row of metrics for the tick just done."""
    c, scale = model.citizens, model.scale
    row = np.zeros(len(METRIC_NAMES))

    def put(name, value):
        row[INDEX[name]] = value

    put("year", ts.year)
    put("month", ts.month)
    for i, name in enumerate(("traditional", "npm", "network_governance")):
        put(f"weight_{name}", ts.weights[i])
    ages = model.age_counts
    pop = model.population
    put("population", pop)
    for g in AGE_GROUPS:
        put(f"pop_{g}", ages[g])
    for k in ("births", "deaths", "immigrants", "emigrants"):
        put(k, ts.demography.get(k, 0) / scale)
    put("share_80plus", ages["80+"] / pop if pop else 0.0)
    put("dependency_ratio", (ages["67-79"] + ages["80+"]) / ages["20-66"] if ages["20-66"] else 0)

    need_pp, prof_pp, vol_pp, inf_pp = ts.need_pp, ts.prof_pp, ts.vol_pp, ts.inf_pp
    got = prof_pp + vol_pp + inf_pp
    inv = 1.0 / scale
    put("persons_with_need", len(ts.needy) * inv)
    put("need_hours", need_pp.sum() * inv)
    for d, name in enumerate(("practical_help", "personal_care", "nursing", "social_inclusion",
                              "children_youth")):
        put(f"need_hours_{name}", ts.need[:, d].sum() * inv)
    put("hours_professional", prof_pp.sum() * inv)
    put("hours_institution", ts.institution_hours * inv)
    put("hours_volunteer", vol_pp.sum() * inv)
    put("hours_informal", inf_pp.sum() * inv)
    put("hours_delivered", got.sum() * inv)
    put("hours_coproduced", (vol_pp.sum() + inf_pp.sum()) * inv)
    put("hours_available_professional", (ts.prof_hours_available + ts.institution_hours) * inv)
    put("hours_available_volunteer", ts.vol_hours_available * inv)
    put("hours_available_informal", ts.informal_hours_available * inv)
    put("unmet_need_hours", (need_pp.sum() - got.sum()) * inv)
    # float32 hour arrays may overshoot need by rounding: coverage is a share
    put("coverage", min(1.0, got.sum() / need_pp.sum()) if need_pp.sum() > 0 else 1.0)
    wait = c.wait[ts.needy]
    waiting = wait > 0
    put("persons_waiting", waiting.sum() * inv)
    put("mean_wait_months", _mean(wait[waiting].astype(float)))
    put("persons_waiting_place", ts.waiting_place * inv)
    served = got > 0
    put("quality", _mean(ts.quality[served], got[served]))
    put("fit", _mean(ts.fit[served], got[served]))
    put("competence", _mean(ts.competence[served], got[served]) if len(ts.competence) else 1.0)
    niche = ts.niche
    nm = served & (niche > 0.5)
    put("fit_niche", _mean(ts.fit[nm], got[nm]))
    put("satisfaction", _mean(c.satisfaction[ts.needy]))
    n_alive = len(ts.alive_idx)
    alive = c.alive
    # sums over the living without gathering them (the dead keep values nobody reads)
    put("trust", float((c.trust * alive).sum(dtype=np.float64)) / n_alive if n_alive else 0.0)
    put("expectation", float((c.expectation * alive).sum(dtype=np.float64)) / n_alive
        if n_alive else 0.0)
    res = c.resources[ts.needy]
    low, high = res < LOW_RESOURCE, res > HIGH_RESOURCE
    # effective coverage: need met, weighted by how well the help fits (an outcome measure)
    eff = ts.coverage * ts.fit
    put("effective_coverage", _mean(eff, need_pp))
    # need-weighted means by group: group 0 low, 1 middle, 2 high resources
    group = np.where(low, 0, np.where(high, 2, 1))
    cov_low, _, cov_high = _group_means(eff, need_pp, group, 3)
    put("coverage_low_resource", cov_low)
    put("coverage_high_resource", cov_high)
    put("coverage_gap_resource", cov_high - cov_low)
    q_low, _, q_high, _ = _group_means(ts.quality, served.astype(np.float64),
                                       np.where(served, group, 3), 4)
    put("quality_gap_resource", q_high - q_low)
    near, far = _group_means(eff, need_pp, c.cultural[ts.needy] >= 0.3, 2)
    put("coverage_gap_cultural", near - far)
    put("coverage_gini", gini(ts.coverage))

    p = model.professionals
    heads = home_fte(model)  # agent-scale FTE
    fte_inst = institution_fte(model)
    put("professionals", heads * inv)
    put("fte_institutions", fte_inst * inv)
    put("fte_per_1000", (heads + fte_inst) * inv / pop * 1000 if pop else 0.0)
    put("share_working_age_in_care", (heads + fte_inst) * inv / ages["20-66"]
        if ages["20-66"] else 0.0)
    sick_rate = float(p.sick[p.active].mean()) if heads else 0.0
    fte_need = fte_needed(ts, sick_rate) + fte_inst
    put("fte_need", fte_need * inv)
    put("fte_gap", (fte_need - heads - fte_inst) * inv)
    put("hours_direct", ts.hours_direct * inv)
    put("hours_admin", ts.hours_admin * inv)
    put("hours_facilitation", ts.hours_facilitation * inv)
    put("hours_idle", ts.hours_idle * inv)
    busy = ts.hours_direct + ts.hours_admin + ts.hours_facilitation
    put("share_admin", ts.hours_admin / busy if busy > 0 else 0.0)
    put("strain", model.mean_strain)
    put("sick_leave_rate", float(p.sick[p.active].mean()) if heads else 0.0)
    put("turnover", ts.finance.get("turnover", 0) * model.fte_per_professional * inv)
    put("hires", ts.finance.get("hires", 0) * model.fte_per_professional * inv)
    put("handovers", ts.finance.get("handovers", 0) * inv)
    put("family_care_hours", ts.family_hours * inv)
    put("carers", ts.carers * inv)
    put("carers_heavy", ts.carer_hours_heavy * inv)
    put("carer_hours_per_carer", ts.family_hours / ts.carers if ts.carers else 0.0)
    put("carer_strain", ts.carer_strain)
    put("carer_lost_work_hours", ts.carer_lost_work_hours * inv)
    v = model.volunteers
    put("volunteers", model.n_volunteers * inv)
    put("volunteer_motivation", _mean(v.motivation[v.active]))
    put("volunteers_quit", ts.finance.get("volunteers_quit", 0) * inv)
    pm = ts.process_months
    put("processes_thick", pm[THICK] * inv)
    put("processes_thin", (pm[THIN] + pm[THIN_OUTSIDE]) * inv)
    put("processes_civil_society_led", pm[CS_LED] * inv)
    put("new_processes", ts.new_processes * inv)
    ng = (ts.route == NG) & ~ts.resident
    inproc = ts.process > 0
    put("participation_low_resource", _mean(inproc[ng & low].astype(float)))
    put("participation_high_resource", _mean(inproc[ng & high].astype(float)))
    total_cells = ts.cells.sum()
    for i, name in enumerate(CELL_NAMES):
        put(name, ts.cells[i] / total_cells if total_cells > 0 else (1.0 if i == 0 else 0.0))
    put("innovations_new", ts.innovation.get("new", 0))
    put("innovations_useful", ts.innovation.get("useful", 0))
    put("innovations_utilised", ts.innovation.get("utilised", 0))
    put("innovations_utilised_total", int((model.ideas.stage == 2).sum()))
    put("productivity", model.productivity)
    put("fit_bonus", model.fit_bonus)
    put("institution_places", model.institution_places * inv)
    put("institution_residents", model.residents * inv)
    # service use by age band (SSB/IPLOS statistics)
    band = BAND_OF_AGE[c.age_months[ts.needy] // 12]
    band_pop = np.array([ages["0-19"] + ages["20-66"], ages["67-79"], ages["80-89"],
                         ages["90+"]])
    resident = ts.resident
    # home care: professional hours in the four care domains (not child welfare)
    home_pp = rowsum(ts.prof, CARE_DOMAINS).astype(np.float64) if len(ts.prof) else prof_pp
    users = ~resident & (home_pp > 0)
    n_res = np.bincount(band[resident], minlength=4) * inv
    n_users = np.bincount(band[users], minlength=4) * inv
    h_users = np.bincount(band[users], weights=home_pp[users], minlength=4) * inv
    put("residents_share_80plus", n_res[2:].sum() / n_res.sum() if n_res.sum() > 0 else 0.0)
    put("home_care_users", n_users.sum())
    for i, g in enumerate(USE_BANDS):
        put(f"residents_per_1000_{g}", 1000 * n_res[i] / band_pop[i] if band_pop[i] else 0.0)
        put(f"home_care_share_{g}", n_users[i] / band_pop[i] if band_pop[i] else 0.0)
        put(f"home_hours_per_user_week_{g}",
            h_users[i] / n_users[i] * 12 / 52 if n_users[i] else 0.0)
    n_care = n_users.sum() + n_res.sum()
    put("care_users_per_1000", 1000 * n_care / pop if pop else 0.0)
    home_prof = h_users.sum()
    put("family_care_ratio", ts.family_hours * inv / home_prof if home_prof > 0 else 0.0)
    put("volunteer_hours_per_1000", 1000 * ts.vol_hours_available * inv / pop if pop else 0.0)
    f = ts.finance
    for k in (*COST_PARTS, "cost_total", *REVENUE_PARTS, "revenue_total", "fiscal_gap", "budget",
              "budget_repayment", "carer_lost_tax"):
        put(k, f[k] * inv)
    put("cost_per_inhabitant", f["cost_total"] * inv * 12 / pop if pop else 0.0)
    put("cost_per_need_hour_met", f["cost_total"] / got.sum() if got.sum() > 0 else 0.0)
    put("cost_per_care_user", f["cost_total"] * inv * 12 / n_care if n_care > 0 else 0.0)
    return row
