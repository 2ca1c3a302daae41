"""The social network: household/family, neighbourhood (small-world) and association ties.

Ties are kept as an edge list (numpy arrays) and turned into scipy CSR matrices for the
monthly products (diffusion, informal care), so that no tick loops over neighbours in Python.
New agents (births, immigrants) get their ties at once in the edge list; the matrices are
rebuilt at the start of each year and drop ties of the dead. ``to_networkx`` gives the
readable networkx face of the same graph (for a sample, the live page, or analysis).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import networkx as nx
import numpy as np
import scipy.sparse as sp

HOUSEHOLD, FAMILY, NEIGHBOURHOOD, ASSOCIATION = 0, 1, 2, 3
LAYER_NAMES = ("household", "family", "neighbourhood", "association")


def _pick_by_age(rng, pool_idx: np.ndarray, pool_age: np.ndarray, target_age: np.ndarray,
                 spread: float) -> np.ndarray:
    """For each target age, a random member of the pool whose age is near it (vectorised)."""
    if len(pool_idx) == 0 or len(target_age) == 0:
        return np.full(len(target_age), -1, dtype=np.int64)
    # ages come in whole months, so many pool members share one age: spread each over its
    # month, or the search below would always land on the first of a group of equals and a
    # few members would be picked by everyone (at 1:1 about 37 people share a month of age
    # and 7 of them got all the picks: carers with five times the needy relatives of a 1:20
    # run, a scale dependence)
    pool_age = pool_age + rng.random(len(pool_age)) / 12.0
    order = np.argsort(pool_age, kind="stable")
    sorted_age = pool_age[order]
    want = target_age + rng.normal(0.0, spread, len(target_age))
    pos = np.searchsorted(sorted_age, want).clip(0, len(order) - 1)
    # a little jitter so people of the same age are not all tied to one pool member
    pos = (pos + rng.integers(-3, 4, len(pos))).clip(0, len(order) - 1)
    return pool_idx[order[pos]]


class Network:
    """Edge list + CSR matrices over agent slots."""

    def __init__(self) -> None:
        self.src = np.empty(0, dtype=np.int32)
        self.dst = np.empty(0, dtype=np.int32)
        self.layer = np.empty(0, dtype=np.int8)
        self.household = np.empty(0, dtype=np.int64)
        self._household_buffer = self.household
        self.all: sp.csr_matrix = sp.csr_matrix((0, 0))
        self.family: sp.csr_matrix = sp.csr_matrix((0, 0))
        self.degree = np.empty(0)
        self.mean_weights: sp.csr_matrix = sp.csr_matrix((0, 0))
        self.has_neighbours = np.empty(0, dtype=np.float32)
        self.ring_order = np.empty(0, dtype=np.int64)  # neighbourhood ring order (see build)
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    # ---------------------------------------------------------------- construction
    def _add(self, a: np.ndarray, b: np.ndarray, layer: int) -> None:
        keep = (a >= 0) & (b >= 0) & (a != b)
        # int32 slots: what scipy's sparse indices use, so no conversion at each rebuild
        self._pending.append((a[keep].astype(np.int32), b[keep].astype(np.int32),
                              np.full(int(keep.sum()), layer, np.int8)))

    def _flush(self) -> None:
        """Join ties added since the last flush (kept apart so adding is cheap)."""
        if self._pending:
            a, b, k = zip(*self._pending, strict=True)
            self.src = np.concatenate([self.src, *a])
            self.dst = np.concatenate([self.dst, *b])
            self.layer = np.concatenate([self.layer, *k])
            self._pending.clear()

    def build(self, rng: np.random.Generator, age_years: np.ndarray, resources: np.ndarray,
              pars: dict) -> None:
        """Initial network for a population (ages in years, resources 0-1)."""
        n = len(age_years)
        idx = np.arange(n, dtype=np.int64)
        self.household = idx.copy()
        # couples: adults 25+ paired with someone of similar age
        adults = idx[(age_years >= 25)]
        partnered = adults[rng.random(len(adults)) < 0.6]
        partnered = partnered[np.argsort(age_years[partnered] + rng.normal(0, 3, len(partnered)))]
        if len(partnered) % 2:
            partnered = partnered[:-1]
        a, b = partnered[0::2], partnered[1::2]
        self._add(a, b, HOUSEHOLD)
        self.household[b] = a
        # children live with a parent 20-45 years older (and the parent's partner)
        kids = idx[age_years < 20]
        parents_pool = idx[(age_years >= 20) & (age_years < 65)]
        parent = _pick_by_age(rng, parents_pool, age_years[parents_pool],
                              age_years[kids] + 30.0, 5.0)
        self._add(kids, parent, HOUSEHOLD)
        self.household[kids] = self.household[np.maximum(parent, 0)]
        partner_of = np.full(n, -1, dtype=np.int64)
        partner_of[a], partner_of[b] = b, a
        self._add(kids, partner_of[np.maximum(parent, 0)], HOUSEHOLD)
        # adult children of the old (the family layer carries most informal care)
        elders = idx[age_years >= 60]
        k = rng.poisson(pars["network.children_per_elder"], len(elders))
        rep = np.repeat(elders, k)
        child_pool = idx[(age_years >= 30) & (age_years < 75)]
        child = _pick_by_age(rng, child_pool, age_years[child_pool], age_years[rep] - 30.0, 4.0)
        self._add(rep, child, FAMILY)
        self.ring_order = idx
        self._neighbourhood(rng, idx, pars)
        self._associations(rng, idx[(age_years >= 16)], resources, pars)
        self.dedupe()

    def _neighbourhood(self, rng, members: np.ndarray, pars: dict) -> None:
        """Watts-Strogatz ring over a random ordering that keeps households together."""
        if len(members) < 3:
            return
        k = max(2, int(pars["network.neighbourhood_degree"]) // 2 * 2)
        hh_rank = rng.permutation(self.household.max() + 1)[self.household[members]]
        order = members[np.lexsort((rng.random(len(members)), hh_rank))]
        m = len(order)
        for j in range(1, k // 2 + 1):
            a = order
            b = np.roll(order, -j)
            rewire = rng.random(m) < pars["network.neighbourhood_rewiring"]
            b = np.where(rewire, order[rng.integers(0, m, m)], b)
            self._add(a, b, NEIGHBOURHOOD)
        self.ring_order = order

    def _associations(self, rng, adults: np.ndarray, resources: np.ndarray, pars: dict) -> None:
        if len(adults) < 2 or pars["network.association_membership"] <= 0:
            return
        memberships = rng.poisson(pars["network.association_membership"] *
                                  (0.5 + resources[adults]))
        member = np.repeat(adults, memberships)
        if len(member) < 2:
            return
        n_assoc = max(1, len(adults) // 60)
        assoc = rng.integers(0, n_assoc, len(member))
        order = np.lexsort((rng.random(len(member)), assoc))
        member, assoc = member[order], assoc[order]
        for j in range(1, int(pars["network.association_ties"]) + 1):
            b = np.roll(member, -j)
            same = np.roll(assoc, -j) == assoc
            self._add(member[same], b[same], ASSOCIATION)

    def add_newcomers(self, rng, new: np.ndarray, mothers: np.ndarray | None,
                      alive_idx: np.ndarray) -> None:
        """Ties for new agents: newborns join the mother's household and family;
        immigrants (mothers None) get neighbourhood ties to random residents."""
        if len(new) == 0:
            return
        grow = new.max() + 1 - len(self.household)
        if grow > 0:  # (a view on a larger buffer: growing is amortised, not a copy a month)
            n = len(self.household)
            if n + grow > len(self._household_buffer):
                buf = np.empty(max(n + grow, int(1.5 * n) + 16), dtype=np.int64)
                buf[:n] = self.household
                self._household_buffer = buf
            self._household_buffer[n: n + grow] = np.arange(n, n + grow)
            self.household = self._household_buffer[: n + grow]
        if mothers is not None:
            self.household[new] = self.household[mothers]
            self._add(new, mothers, HOUSEHOLD)
        else:
            if len(alive_idx) == 0:
                return
            first = alive_idx[rng.integers(0, len(alive_idx), len(new))]
            second = alive_idx[rng.integers(0, len(alive_idx), len(new))]
            self._add(new, first, NEIGHBOURHOOD)
            self._add(new, np.where(second == first, -1, second), NEIGHBOURHOOD)  # no twin tie

    def rebuild(self, n_slots: int, alive: np.ndarray) -> None:
        """Drop ties of the dead and rebuild the CSR matrices over ``n_slots`` slots."""
        self._flush()
        keep = alive[self.src] & alive[self.dst]
        self.src, self.dst, self.layer = self.src[keep], self.dst[keep], self.layer[keep]
        self.all = _symmetric_csr(self.src, self.dst, n_slots)
        fam = self.layer <= FAMILY
        self.family = _symmetric_csr(self.src[fam], self.dst[fam], n_slots)
        ties = np.diff(self.all.indptr)
        self.degree = ties.astype(np.float64)
        # row-normalised weights for the monthly neighbour mean (one product a month), sharing
        # the tie structure; ties to people who die during the year count until the next
        # yearly rebuild
        inv = np.divide(1.0, self.degree, out=np.zeros_like(self.degree), where=ties > 0)
        self.mean_weights = sp.csr_matrix(
            (np.repeat(inv.astype(np.float32), ties), self.all.indices, self.all.indptr),
            shape=self.all.shape)
        self.has_neighbours = (ties > 0).astype(np.float32)

    def neighbour_pull(self, values: np.ndarray) -> np.ndarray:
        """Mean of ``values`` over each slot's neighbours minus its own value (0 where it has
        no neighbours): where diffusion pulls each slot, from one sparse product."""
        n = self.all.shape[0]
        out = np.zeros_like(values)
        _matvec(self.mean_weights, values[:n], out[:n])
        out[:n] -= self.has_neighbours * values[:n]
        return out

    def family_ties(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Household and family ties of the slots ``rows`` (all below the matrix size), read
        from the CSR arrays: ``(i, j)`` per tie, ``rows[i]`` tied to slot ``j``. Cost is in
        the ties of ``rows`` only, not in the whole population."""
        ptr = self.family.indptr
        start = ptr[rows].astype(np.int64)
        counts = ptr[rows + 1] - start
        owner = np.repeat(np.arange(len(rows)), counts)
        offset = np.repeat(start - (np.cumsum(counts) - counts), counts)
        return owner, self.family.indices[np.arange(len(owner)) + offset]

    def dedupe(self) -> None:
        """Keep one tie per pair of people (the closest layer where a pair has several), so the
        matrices can be built without summing duplicates."""
        self._flush()
        if len(self.src) == 0:
            return
        lo = np.minimum(self.src, self.dst).astype(np.int64)
        hi = np.maximum(self.src, self.dst).astype(np.int64)
        if hi.max() >= 2**29:
            raise ValueError("more than 2**29 agent slots: the tie key below would overflow")
        # one sortable int64 per tie: (lo, hi, layer); sorted, the first of each pair has the
        # closest layer (slots < 2**29)
        key = np.sort((lo << 34) | (hi << 2) | self.layer.astype(np.int64))
        pair = key >> 2
        first = np.ones(len(key), dtype=bool)
        first[1:] = pair[1:] != pair[:-1]
        key = key[first]
        self.src = (key >> 34).astype(np.int32)
        self.dst = ((key >> 2) & (2**32 - 1)).astype(np.int32)
        self.layer = (key & 3).astype(np.int8)

    def relabel(self, new_of_old: np.ndarray) -> None:
        """Rename slots (``new_of_old[old] = new``) in the ties and the household ids."""
        self._flush()
        self.src = new_of_old[self.src].astype(np.int32)
        self.dst = new_of_old[self.dst].astype(np.int32)
        house = np.empty_like(self.household)
        house[new_of_old[: len(self.household)]] = new_of_old[self.household]
        self.household = house

    @property
    def n_edges(self) -> int:
        self._flush()
        return len(self.src)

    def to_networkx(self, nodes: np.ndarray | None = None) -> nx.Graph:
        """The graph (or the subgraph induced by ``nodes``) as networkx, with a 'layer' per edge."""
        self._flush()
        g = nx.Graph()
        if nodes is None:
            src, dst, lay = self.src, self.dst, self.layer
            g.add_nodes_from(np.unique(np.concatenate([src, dst])).tolist())
        else:
            mask = np.zeros(max(int(self.src.max(initial=0)), int(self.dst.max(initial=0)),
                                int(nodes.max(initial=0))) + 1, bool)
            mask[nodes] = True
            keep = mask[self.src] & mask[self.dst]
            src, dst, lay = self.src[keep], self.dst[keep], self.layer[keep]
            g.add_nodes_from(nodes.tolist())
        g.add_edges_from((int(a), int(b), {"layer": LAYER_NAMES[int(k)]})
                         for a, b, k in zip(src, dst, lay, strict=True))
        return g


def _symmetric_csr(a: np.ndarray, b: np.ndarray, n: int) -> sp.csr_matrix:
    """0/1 CSR matrix with a tie each way for each (a, b) pair; the pairs must be unique
    (``Network.dedupe``). A counting sort by row, O(ties): no sort within rows and no
    summing of duplicates, which dominated the yearly rebuild at national scale."""
    rows = np.concatenate([a, b]).astype(np.int32, copy=False)
    cols = np.concatenate([b, a]).astype(np.int32, copy=False)
    nnz = len(rows)
    indptr = np.zeros(n + 1, dtype=np.int32)
    if _coo_tocsr is not None:
        indices = np.empty(nnz, dtype=np.int32)
        data = np.empty(nnz, dtype=np.float32)
        _coo_tocsr(n, n, nnz, rows, cols, np.ones(nnz, dtype=np.float32), indptr, indices, data)
    else:  # the same order (stable by row) with numpy alone
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        indices = cols[np.argsort(rows, kind="stable")]
        data = np.ones(nnz, dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(n, n))


PARALLEL_MIN_TIES = 4_000_000  # below this a product is too quick to gain from threads
_threads: ThreadPoolExecutor | None = None


def _matvec(m: sp.csr_matrix, x: np.ndarray, out: np.ndarray) -> None:
    """``out[:] = m @ x``. Large products are split into row blocks run on two threads: the
    work is waiting on memory (each tie reads a random slot), scipy's kernel releases the
    GIL, and every row is summed in the same order, so the result is the same bit for bit."""
    global _threads
    if m.nnz < PARALLEL_MIN_TIES or _csr_matvec is None or (os.cpu_count() or 1) < 2:
        out[:] = m @ x
        return
    if _threads is None:
        _threads = ThreadPoolExecutor(2, thread_name_prefix="welfare-sim-matvec")
    n_rows, n_cols = m.shape
    cut = int(np.searchsorted(m.indptr, m.nnz // 2))
    out[:] = 0
    jobs = [_threads.submit(_csr_matvec, hi - lo, n_cols, m.indptr[lo: hi + 1], m.indices,
                            m.data, x, out[lo:hi]) for lo, hi in ((0, cut), (cut, n_rows))]
    for job in jobs:
        job.result()


try:  # scipy's O(nnz) COO -> CSR and CSR-vector kernels (private module, with fallbacks)
    from scipy.sparse._sparsetools import csr_matvec as _csr_matvec
except ImportError:  # pragma: no cover - private module moved
    _csr_matvec = None
try:  # scipy's O(nnz) COO -> CSR kernel (what coo_matrix.tocsr uses before summing duplicates)
    from scipy.sparse._sparsetools import coo_tocsr as _coo_tocsr
except ImportError:  # pragma: no cover - private module moved
    _coo_tocsr = None
