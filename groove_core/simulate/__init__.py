"""Synthetic data generators (``groove simulate``): everything they write is marked
synthetic and can be removed again."""

from groove_core.simulate.attribution import (
    remove_attribution_simulation,
    simulate_attribution,
)
from groove_core.simulate.openworld import (
    remove_openworld_simulation,
    simulate_openworld,
)

__all__ = [
    "remove_attribution_simulation",
    "remove_openworld_simulation",
    "simulate_attribution",
    "simulate_openworld",
]
