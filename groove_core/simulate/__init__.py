"""Synthetic data generators (``groove simulate``): everything they write is marked
synthetic and can be removed again."""

from groove_core.simulate.attribution import (
    remove_attribution_simulation,
    simulate_attribution,
)

__all__ = [
    "remove_attribution_simulation",
    "simulate_attribution",
]
