"""Finance in NOK at fixed 2016 prices: costs by part, revenue by source, the fiscal gap.

Costs: municipal wages (split by use of time: direct, administration/control, facilitation,
travel and indirect work, idle, sick pay), purchases from contracted providers (NPM tenders)
and their transaction costs, overhead per FTE, facilitation's non-wage costs, institutional
places, volunteer support and innovation. Revenue: tax from the working-age population (less
the tax on the paid work family carers give up), general and age-weighted grants, user fees.
``cost_total`` is by construction the sum of its parts (a test checks).

The care budget comes from revenue: ``finance.budget_share_of_revenue`` x revenue, growing by
``finance.budget_growth_per_year``; a year's overrun (cost above the budget before repayments)
is paid back out of the budgets of the next ``finance.gap_lag_years`` years in equal parts (municipal deficits
must be covered, kommuneloven § 14-10). The budget caps hiring (and new nursing-home places)
when the budget constraint is on.
"""

from __future__ import annotations

from sim.mechanisms import workforce
from sim.mechanisms.base import TickState

COST_PARTS = ("cost_wages_direct", "cost_wages_admin", "cost_wages_facilitation",
              "cost_wages_indirect", "cost_wages_idle", "cost_sick_pay", "cost_contracts", "cost_transaction",
              "cost_overhead", "cost_facilitation_nonwage", "cost_institutions",
              "cost_volunteer_support", "cost_innovation")
REVENUE_PARTS = ("revenue_tax", "revenue_grants", "revenue_fees")


def step(model, ts: TickState) -> None:
    pars = ts.pars
    p = model.professionals
    wage_h = pars["finance.wage_cost_per_fte_year"] / 12.0 / pars[
        "professionals.hours_per_fte_month"]
    # in agent-scale FTE (one professional is model.fte_per_professional of them)
    n_sick = int((p.active & p.sick).sum()) * model.fte_per_professional
    headcount = workforce.home_fte(model)
    f = ts.finance
    contract = ts.contract_hours
    # contracted hours are bought, not paid as municipal wages
    f["cost_wages_direct"] = (ts.hours_direct - contract) * wage_h
    f["cost_contracts"] = contract * wage_h * (1.0 - pars["npm.contractor_cost_discount"])
    f["cost_transaction"] = f["cost_contracts"] * pars["npm.transaction_cost_share"]
    f["cost_wages_admin"] = ts.hours_admin * wage_h
    f["cost_wages_facilitation"] = ts.hours_facilitation * wage_h
    f["cost_wages_indirect"] = ts.hours_indirect * wage_h
    f["cost_wages_idle"] = ts.hours_idle * wage_h
    f["cost_sick_pay"] = n_sick * pars["finance.wage_cost_per_fte_year"] / 12.0 * pars[
        "finance.sick_pay_share"]
    f["cost_overhead"] = headcount * pars["finance.overhead_per_fte_year"] / 12.0
    f["cost_facilitation_nonwage"] = float(ts.process_months[1:].sum()) * pars[
        "cocreation.facilitation_nonwage_cost_per_process_month"]
    f["cost_institutions"] = model.institution_places * pars[
        "institutions.cost_per_place_year"] / 12.0
    f["cost_volunteer_support"] = model.n_volunteers * pars[
        "volunteers.support_cost_per_year"] / 12.0
    # ideas are counted for the persons (the whole municipality): at agent scale x scale
    f["cost_innovation"] = ts.innovation.get("new", 0) * pars["innovation.cost_per_idea"] * \
        model.scale
    f["cost_total"] = sum(f[k] for k in COST_PARTS)
    # age counts are in persons; like every other part, revenue is at agent scale here
    demo, sc = model.age_counts, model.scale
    # tax on the paid work family carers give up is lost (at the care services' share of tax
    # per working-age person, spread over their paid hours)
    tax_year = pars["finance.tax_per_working_age_year"]
    f["carer_lost_tax"] = ts.carer_lost_work_hours * tax_year / pars[
        "finance.paid_hours_per_working_age_year"]
    f["revenue_tax"] = demo["20-66"] * sc * tax_year / 12.0 - f["carer_lost_tax"]
    f["revenue_grants"] = (model.population * pars["finance.grant_per_inhabitant_year"]
                           + demo["80+"] * pars["finance.grant_per_80plus_year"]) * sc / 12.0
    practical = float(ts.prof[~ts.resident, 0].sum()) if len(ts.prof) else 0.0
    f["revenue_fees"] = (practical * pars["finance.fee_per_home_hour"]
                         + model.residents * pars["institutions.fee_per_place_year"] / 12.0)
    f["revenue_total"] = sum(f[k] for k in REVENUE_PARTS)
    f["fiscal_gap"] = f["cost_total"] - f["revenue_total"]
    # the budget: a share of revenue, its growth, less the repayment of past overruns
    base = (pars["finance.budget_share_of_revenue"] * f["revenue_total"]
            * (1.0 + pars["finance.budget_growth_per_year"]) ** (ts.year - model.start_year))
    budget = max(0.0, base - model.budget_repayment / 12.0)
    f["budget"] = budget
    f["budget_repayment"] = model.budget_repayment / 12.0
    model.year_cost_sum += f["cost_total"]
    model.year_budget_sum += base
    # what the budget leaves for staff next month (used by hiring)
    non_staff = (f["cost_institutions"] + f["cost_volunteer_support"]
                 + f["cost_facilitation_nonwage"] + f["cost_innovation"] + f["cost_transaction"])
    per_fte = (pars["finance.wage_cost_per_fte_year"] + pars["finance.overhead_per_fte_year"]) / 12
    model.affordable_fte = max(0.0, (budget - non_staff) / per_fte)


def close_year(model) -> None:
    """At the turn of the year: record the overrun of the year just ended and set this year's
    repayment (equal parts of the overruns of the last ``finance.gap_lag_years`` years)."""
    lag = int(model.pars["finance.gap_lag_years"])
    model.overruns.append(max(0.0, model.year_cost_sum - model.year_budget_sum))
    model.budget_repayment = (sum(model.overruns[-lag:]) / lag) if lag > 0 else 0.0
