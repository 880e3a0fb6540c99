"""Synthetic data generators (``groove simulate``): they write only into a simulation tier
(``simulation:<name>``) holding copies of a real tier's learnings, and everything they
write is marked synthetic and can be removed again."""

from groove_core.simulate.attribution import (
    remove_attribution_simulation,
    simulate_attribution,
)
from groove_core.simulate.openworld import (
    remove_openworld_simulation,
    simulate_openworld,
)
from groove_core.simulate.tier import (
    DEFAULT_SIMULATION_TIER,
    copy_into_simulation,
    remove_simulation_tier,
)

__all__ = [
    "DEFAULT_SIMULATION_TIER",
    "copy_into_simulation",
    "remove_attribution_simulation",
    "remove_openworld_simulation",
    "remove_simulation_tier",
    "simulate_attribution",
    "simulate_openworld",
]
