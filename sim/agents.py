"""The Mesa agents: the readable face of the array state.

Each agent is a thin view on one slot of the model's arrays (``model.citizens``,
``model.professionals``, ``model.volunteers``): reading ``citizen.age`` reads the array, so
the agents never go stale and the monthly mechanisms never loop over Python objects.
Use them to inspect, sample or extend the model; find them in ``model.agents_by_type``.
"""

from __future__ import annotations

import mesa

from sim.mechanisms.base import DOMAINS, PROCESS_NAMES


class _SlotAgent(mesa.Agent):
    """A Mesa agent bound to slot ``slot`` of an array store."""

    def __init__(self, model, slot: int) -> None:
        super().__init__(model)
        self.slot = int(slot)


class Citizen(_SlotAgent):
    """An inhabitant: age, sex, resources, cultural distance, needs, expectations, trust."""

    @property
    def _c(self):
        return self.model.citizens

    @property
    def age(self) -> float:
        """Age in years."""
        return int(self._c.age_months[self.slot]) / 12.0

    @property
    def sex(self) -> str:
        return "female" if self._c.sex[self.slot] == 1 else "male"

    @property
    def alive(self) -> bool:
        return bool(self._c.alive[self.slot])

    @property
    def resources(self) -> float:
        """Own resources (health, time, skills) for co-production, 0-1."""
        return float(self._c.resources[self.slot])

    @property
    def cultural_distance(self) -> float:
        return float(self._c.cultural[self.slot])

    @property
    def health_burden(self) -> float:
        """Accumulated harm from unmet or ill-fitting help (0 = none)."""
        return float(self._c.burden[self.slot])

    @property
    def niche(self) -> float:
        """How individual the citizen's needs are now (0 = a standard package fits)."""
        return float(self.model.niche_of([self.slot])[0])

    @property
    def needs(self) -> dict[str, float]:
        """Need in hours a month by domain, as of the last tick."""
        return self.model.needs_of(self.slot)

    @property
    def expectation(self) -> float:
        return float(self._c.expectation[self.slot])

    @property
    def satisfaction(self) -> float:
        return float(self._c.satisfaction[self.slot])

    @property
    def trust(self) -> float:
        return float(self._c.trust[self.slot])

    @property
    def coverage(self) -> float:
        """Share of last month's need met (all sources)."""
        return float(self._c.coverage[self.slot])

    @property
    def in_institution(self) -> bool:
        return bool(self._c.resident[self.slot])

    @property
    def co_creation(self) -> str:
        """The co-creation process the citizen takes part in ('none', 'thick', ...)."""
        return PROCESS_NAMES[int(self._c.process[self.slot])]

    @property
    def is_volunteer(self) -> bool:
        return bool(self._c.volunteer[self.slot] >= 0)

    def __repr__(self) -> str:
        return f"<Citizen {self.slot} age {self.age:.0f} {self.sex}>"


class Professional(_SlotAgent):
    """A care professional (municipal staff; contracted hours are bought by the hour)."""

    @property
    def _p(self):
        return self.model.professionals

    @property
    def strain(self) -> float:
        return float(self._p.strain[self.slot])

    @property
    def on_sick_leave(self) -> bool:
        return bool(self._p.sick[self.slot])

    @property
    def months_employed(self) -> int:
        return int(self.model.steps - self._p.hired[self.slot])

    @property
    def caseload(self) -> int:
        """Citizens who have this professional as their contact person."""
        c = self.model.citizens
        return int(((c.case_pro == self.slot) & c.alive).sum())

    def __repr__(self) -> str:
        return f"<Professional {self.slot} strain {self.strain:.2f}>"


class Volunteer(_SlotAgent):
    """A citizen who volunteers in welfare services."""

    @property
    def _v(self):
        return self.model.volunteers

    @property
    def person(self) -> int:
        """Slot of the citizen who volunteers."""
        return int(self._v.person[self.slot])

    @property
    def motivation(self) -> float:
        return float(self._v.motivation[self.slot])

    @property
    def hours_offered(self) -> float:
        """Hours a month offered at full motivation."""
        return float(self._v.hours[self.slot])

    def __repr__(self) -> str:
        return f"<Volunteer {self.slot} motivation {self.motivation:.2f}>"


__all__ = ["Citizen", "Professional", "Volunteer", "DOMAINS"]
