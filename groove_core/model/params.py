"""Adaptive parameters learned by Bayesian updates (relation ``adaptive_params``,
docs/architecture.md#relations-v1)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from groove_core.errors import ValidationError
from groove_core.model.serde import from_rfc3339, now, require, to_rfc3339
from groove_core.model.values import check_int, check_text

if TYPE_CHECKING:
    import numpy as np


def _finite(name: str, value: Any) -> float:
    """``value`` as a float; ValidationError for a non-number, NaN or an infinity."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy's too
        raise ValidationError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValidationError(f"{name} must be finite, got {value!r}")
    return number


@dataclass
class AdaptiveParam:
    """A value in [0, 1] with a Beta(prior_alpha, prior_beta) belief over it.

    ``uncertainty`` follows the data contract (docs/architecture.md#relations-v1): 1 before
    any observation, then 1 / (1 + sqrt(n)).
    """

    value: float = 0.5
    uncertainty: float = 1.0
    observations: int = 0
    prior_alpha: float = 1.0
    prior_beta: float = 1.0

    def __post_init__(self) -> None:
        for name in ("prior_alpha", "prior_beta"):
            _finite(name, getattr(self, name))
        if not (self.prior_alpha > 0 and self.prior_beta > 0):
            raise ValidationError("prior_alpha and prior_beta must be positive")

    @classmethod
    def with_prior(cls, alpha: float, beta: float) -> AdaptiveParam:
        """Informed prior Beta(alpha, beta); value = alpha / (alpha + beta).

        Raises: ValidationError unless alpha and beta are finite numbers > 0."""
        a, b = _finite("alpha", alpha), _finite("beta", beta)
        if a <= 0 or b <= 0:
            raise ValidationError("alpha and beta must be positive")
        return cls(a / (a + b), 1.0, 0, a, b)

    def update(self, outcome: float, weight: float = 1.0) -> None:
        """Seed 001's Bayesian update: the outcome in [0, 1] counts with weight
        ``weight / (1 + uncertainty)`` towards alpha (success) and beta (failure).

        Raises:
            ValidationError: outcome not a finite number in [0, 1], or weight not a
                finite number >= 0 (NaN and infinities included); nothing changes.
        """
        out, w = _finite("outcome", outcome), _finite("weight", weight)
        if not 0.0 <= out <= 1.0 or w < 0:
            raise ValidationError(
                f"outcome must be in [0, 1] and weight >= 0, got outcome {outcome!r}, "
                f"weight {weight!r}"
            )
        outcome, weight = out, w
        self.observations += 1
        effective = weight / (1.0 + self.uncertainty)
        self.prior_alpha += outcome * effective
        self.prior_beta += (1.0 - outcome) * effective
        self.value = self.prior_alpha / (self.prior_alpha + self.prior_beta)
        self.uncertainty = 1.0 / (1.0 + math.sqrt(self.observations))

    def sample(self, rng: np.random.Generator | None = None) -> float:
        """Thompson sampling: one draw in [0, 1] from Beta(prior_alpha, prior_beta).

        Drawn by numpy's ``Generator.beta`` (``rng``, else a fresh ``default_rng()``); the
        same stream as ``scipy.stats.beta.rvs(random_state=rng)``, without importing scipy.
        """
        import numpy as np  # not at module level: reading a parameter does not need it

        return float((rng or np.random.default_rng()).beta(self.prior_alpha, self.prior_beta))

    def to_json(self) -> dict:
        return {
            "value": self.value,
            "uncertainty": self.uncertainty,
            "observations": self.observations,
            "prior_alpha": self.prior_alpha,
            "prior_beta": self.prior_beta,
        }

    @classmethod
    def from_json(cls, data: Any) -> AdaptiveParam:
        what = "adaptive param"
        return cls(
            value=require(data, "value", float, what),
            uncertainty=require(data, "uncertainty", float, what),
            observations=check_int(
                require(data, "observations", object, what), f"{what}: observations", lo=0
            ),
            prior_alpha=require(data, "prior_alpha", float, what),
            prior_beta=require(data, "prior_beta", float, what),
        )


@dataclass
class SystemParam:
    """A named system-wide :class:`AdaptiveParam` (relation ``adaptive_params``)."""

    name: str
    param: AdaptiveParam = field(default_factory=AdaptiveParam)
    updated_at: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        if not check_text(self.name, "parameter name", max_chars=1000).strip():
            raise ValidationError("a parameter needs a name")

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "param": self.param.to_json(),
            "updated_at": to_rfc3339(self.updated_at),
        }

    @classmethod
    def from_json(cls, data: Any) -> SystemParam:
        what = "system param"
        return cls(
            name=require(data, "name", str, what),
            param=AdaptiveParam.from_json(require(data, "param", dict, what)),
            updated_at=from_rfc3339(require(data, "updated_at", str, what)),
        )
