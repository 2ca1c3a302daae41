"""Structure-of-arrays storage: agent state as numpy arrays, one per attribute.

Slots are never reused: a dead or departed agent keeps its slot with ``alive = False``, so a
slot index is a stable id for the whole run. Arrays grow by at least 50 % at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class ArrayStore:
    """A growable table of per-agent arrays. ``self.n`` slots are in use."""

    def __init__(self, fields: dict[str, tuple[np.dtype | type, Any]], capacity: int = 16):
        self._fields = dict(fields)
        self.n = 0
        self._cap = max(16, capacity)
        for name, (dtype, fill) in self._fields.items():
            setattr(self, "_" + name, np.full(self._cap, fill, dtype=dtype))
        self._views()

    def _views(self) -> None:
        # ``store.name`` is a plain attribute holding the view of the used part, renewed
        # whenever ``n`` or the backing arrays change (cheaper than a __getattr__ per access)
        d = self.__dict__
        for name in self._fields:
            d[name] = d["_" + name][: d["n"]]

    def full(self, name: str) -> np.ndarray:
        """The whole backing array (capacity-long), for in-place writes."""
        return self.__dict__["_" + name]

    def add(self, count: int, **values: Any) -> np.ndarray:
        """Append ``count`` slots, set given fields, return their indices."""
        if count <= 0:
            return np.empty(0, dtype=np.int64)
        need = self.n + count
        if need > self._cap:
            new_cap = max(need, int(self._cap * 1.5) + 16)
            for name, (dtype, fill) in self._fields.items():
                old = self.__dict__["_" + name]
                arr = np.full(new_cap, fill, dtype=dtype)
                arr[: self.n] = old[: self.n]
                self.__dict__["_" + name] = arr
            self._cap = new_cap
        idx = np.arange(self.n, need, dtype=np.int64)
        for name, value in values.items():
            self.__dict__["_" + name][self.n: need] = value
        self.n = need
        self._views()
        return idx

    def permute(self, old_of_new: np.ndarray) -> None:
        """Reorder the used slots: new slot ``k`` takes what was in slot ``old_of_new[k]``."""
        for name in self._fields:
            used = self.__dict__["_" + name][: self.n]
            used[:] = used[old_of_new]
        self._views()

    @property
    def nbytes(self) -> int:
        return sum(self.__dict__["_" + f].nbytes for f in self._fields)
