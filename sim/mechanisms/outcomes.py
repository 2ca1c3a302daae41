"""Satisfaction, trust, expectations and health: what the month's help does to citizens.

Expectations rise with information (and more for customers), are pulled towards the network
neighbours' mean (one sparse product), and for co-creation partners towards what they
experience. Satisfaction is experience (coverage x quality) against expectation. Unmet or
ill-fitting help adds to a health burden that raises later need (prevention pays later).
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import IS_PARTNER, NPM, TickState


def step(model, ts: TickState) -> None:
    c, pars = model.citizens, ts.pars
    idx = ts.needy
    experienced = ts.coverage * ts.quality
    c.satisfaction[idx] = np.clip(0.5 + experienced - c.expectation[idx], 0.0, 1.0)
    trust = c.trust[idx] + pars["expectations.trust_response"] * (c.satisfaction[idx] - 0.5)
    partner = IS_PARTNER[ts.process]
    trust = trust + partner * pars["cocreation.trust_gain_per_month"]
    c.trust[idx] = np.clip(trust, 0.0, 1.0)

    if pars["mechanisms.expectations"]:
        n = c.n
        e = c.expectation
        e += np.float32(pars["expectations.network_diffusion_per_month"]) * \
            model.net.neighbour_pull(e)
        e += pars["expectations.information_drift_per_year"] / 12.0 * (1.0 - e)
        customers = idx[ts.route == NPM]
        e[customers] += pars["expectations.customer_push_per_year"] / 12 * (1.0 - e[customers])
        pidx = idx[partner]
        e[pidx] += pars["expectations.partner_realism_per_month"] * (
            experienced[partner] - e[pidx])
        np.clip(e[:n], 0.0, 1.0, out=e[:n])

    if pars["mechanisms.health"]:
        b = c.burden  # (the dead keep a value nobody reads: cheaper than indexing the living)
        b *= np.float32(1.0 - pars["health.recovery_rate"])
        effective = np.clip(ts.coverage * ts.fit, 0.0, 1.0)
        b[idx] += pars["health.unmet_need_damage"] * (1.0 - effective)
        np.clip(b[: c.n], 0.0, 3.0, out=b[: c.n])
