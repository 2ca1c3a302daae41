"""The fast paths of issue 6 give the same answers as the plain computations they replace."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from sim import network
from sim.mechanisms import needs
from sim.mechanisms.allocation import informal_available, rowsum
from sim.mechanisms.base import TickState
from sim.model import WelfareModel
from sim.network import FAMILY, HOUSEHOLD, NEIGHBOURHOOD, Network
from sim.scenario import default_scenario


def _model(months: int = 14, seed: int = 3) -> WelfareModel:
    sc = default_scenario("network_governance", **{"run.population_scale": 0.05,
                                                   "run.end_year": 2020})
    m = WelfareModel(sc, seed=seed)
    for _ in range(months):
        m.step()
    return m


def test_dedupe_keeps_one_tie_per_pair_in_its_closest_layer():
    net = Network()
    net._add(np.array([0, 1, 2, 3]), np.array([1, 0, 3, 2]), NEIGHBOURHOOD)  # both directions
    net._add(np.array([2, 4]), np.array([3, 5]), FAMILY)
    net._add(np.array([5]), np.array([4]), HOUSEHOLD)
    net.dedupe()
    pairs = {(int(min(a, b)), int(max(a, b))): int(k)
             for a, b, k in zip(net.src, net.dst, net.layer, strict=True)}
    assert len(net.src) == 3
    assert pairs == {(0, 1): NEIGHBOURHOOD, (2, 3): FAMILY, (4, 5): HOUSEHOLD}


def test_counting_sort_csr_is_the_canonical_matrix():
    m = _model(months=1)
    net = m.net
    mine = network._symmetric_csr(net.src, net.dst, m.citizens.n)
    rows = np.concatenate([net.src, net.dst])
    cols = np.concatenate([net.dst, net.src])
    ref = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                        shape=mine.shape)  # sums duplicates, sorts columns
    assert ref.max() == 1  # no pair twice: dedupe holds in the model's own network
    assert (mine != ref).nnz == 0
    assert np.array_equal(mine.indptr, ref.indptr)


def test_numpy_fallback_builds_the_same_csr(monkeypatch):
    net = _model(months=0).net
    fast = network._symmetric_csr(net.src, net.dst, len(net.household))
    monkeypatch.setattr(network, "_coo_tocsr", None)  # as if scipy's private kernel moved
    slow = network._symmetric_csr(net.src, net.dst, len(net.household))
    assert np.array_equal(fast.indptr, slow.indptr)
    assert np.array_equal(fast.indices, slow.indices)  # same order within rows, too


def test_threaded_product_is_bit_identical(monkeypatch):
    rng = np.random.default_rng(0)
    n = 20_000
    rows, cols = rng.integers(0, n, 200_000), rng.integers(0, n, 200_000)
    a = sp.csr_matrix((rng.random(len(rows)).astype(np.float32), (rows, cols)), shape=(n, n))
    x = rng.random(n).astype(np.float32)
    one = np.empty(n, np.float32)
    network._matvec(a, x, one)  # below the threshold: scipy's product
    monkeypatch.setattr(network, "PARALLEL_MIN_TIES", 1)
    two = np.full(n, 7.0, np.float32)  # garbage in the output must not leak through
    network._matvec(a, x, two)
    assert np.array_equal(one, two)
    assert np.array_equal(one, (a @ x).astype(np.float32))


def test_family_care_from_ties_equals_the_two_products():
    m = _model()
    ts, c, net = m.last_tick, m.citizens, m.net
    n_slots = net.family.shape[0]
    inside = ts.needy[ts.needy < n_slots]
    needy_f = np.zeros(n_slots)
    needy_f[inside] = 1.0
    carer = m.carer_base_hours[:n_slots] * c.alive[:n_slots]
    carer[inside] = 0.0
    ties = net.family @ needy_f
    share = np.divide(carer, ties, out=np.zeros(n_slots), where=ties > 0)
    from_family = (net.family @ share)[inside]
    own = ts.pars["informal.own_hours"] * c.resources[ts.needy] * (1.0 - ts.severity)
    got = informal_available(m, ts) - own
    assert from_family.sum() > 0
    assert np.allclose(got[ts.needy < n_slots], from_family, rtol=1e-6, atol=1e-9)


def test_needs_screen_is_exact_through_a_year():
    m = _model(months=0)
    for _ in range(14):  # across a yearly refresh of the screen
        m.step()
        a = TickState(m.year, m.month, m.last_tick.weights, m.pars)
        needs.step(m, a)
        screen = m.need_screen
        m.need_screen = np.zeros_like(screen)  # every living slot a candidate
        b = TickState(m.year, m.month, m.last_tick.weights, m.pars)
        needs.step(m, b)
        m.need_screen = screen
        assert len(a.needy) > 0
        assert np.array_equal(a.needy, b.needy) and np.array_equal(a.need, b.need)


def test_rowsum_matches_sum_over_domains():
    x = np.random.default_rng(1).random((1000, 5)).astype(np.float32)
    mask = np.array([1, 0, 0, 1, 1], np.float32)
    assert np.allclose(rowsum(x), x.sum(axis=1), rtol=1e-6)
    assert np.allclose(rowsum(x * mask, mask), (x * mask).sum(axis=1), rtol=1e-6)
