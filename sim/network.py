"""The social network: household/family, neighbourhood (small-world) and association ties.

Ties are kept as an edge list (numpy arrays) and turned into scipy CSR matrices for the
monthly products (diffusion, informal care), so that no tick loops over neighbours in Python.
New agents (births, immigrants) get their ties at once in the edge list; the matrices are
rebuilt at the start of each year and drop ties of the dead. ``to_networkx`` gives the
readable networkx face of the same graph (for a sample, the live page, or analysis).
"""

from __future__ import annotations

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
        self.all: sp.csr_matrix = sp.csr_matrix((0, 0))
        self.family: sp.csr_matrix = sp.csr_matrix((0, 0))
        self.degree = np.empty(0)
        self.mean_weights: sp.csr_matrix = sp.csr_matrix((0, 0))
        self.has_neighbours = np.empty(0, dtype=bool)
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
        self._neighbourhood(rng, idx, pars)
        self._associations(rng, idx[(age_years >= 16)], resources, pars)

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
        if grow > 0:
            self.household = np.concatenate([self.household, np.arange(
                len(self.household), len(self.household) + grow, dtype=np.int64)])
        if mothers is not None:
            self.household[new] = self.household[mothers]
            self._add(new, mothers, HOUSEHOLD)
        else:
            if len(alive_idx) == 0:
                return
            for _ in range(2):
                self._add(new, alive_idx[rng.integers(0, len(alive_idx), len(new))],
                          NEIGHBOURHOOD)

    def rebuild(self, n_slots: int, alive: np.ndarray) -> None:
        """Drop ties of the dead and rebuild the CSR matrices over ``n_slots`` slots."""
        self._flush()
        keep = alive[self.src] & alive[self.dst]
        self.src, self.dst, self.layer = self.src[keep], self.dst[keep], self.layer[keep]
        self.all = self._csr(self.src, self.dst, n_slots)
        fam = self.layer <= FAMILY
        self.family = self._csr(self.src[fam], self.dst[fam], n_slots)
        self.degree = np.diff(self.all.indptr).astype(np.float64)  # ties are 0/1 after _csr
        # row-normalised weights for the monthly neighbour mean (one product a month), sharing
        # the tie structure; ties to people who die during the year count until the next
        # yearly rebuild
        inv = np.divide(1.0, self.degree, out=np.zeros_like(self.degree), where=self.degree > 0)
        self.mean_weights = sp.csr_matrix(
            (np.repeat(inv.astype(np.float32), np.diff(self.all.indptr)), self.all.indices,
             self.all.indptr), shape=self.all.shape)
        self.has_neighbours = self.degree > 0

    @staticmethod
    def _csr(a: np.ndarray, b: np.ndarray, n: int) -> sp.csr_matrix:
        rows = np.concatenate([a, b])
        cols = np.concatenate([b, a])
        m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n))
        m.data[:] = 1.0  # duplicate ties count once
        return m

    def neighbour_mean(self, values: np.ndarray) -> np.ndarray:
        """Mean of ``values`` over each slot's neighbours (own value where it has none)."""
        n = self.all.shape[0]
        out = values.copy()
        m = self.mean_weights @ values[:n]
        out[:n] = np.where(self.has_neighbours, m, values[:n])
        return out

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
