"""The one progress protocol of groove: long work reports :class:`Progress` to a callback.

Every function that takes time (imports, embedding, projections, simulations, index builds)
accepts ``progress: ProgressFn | None`` and calls it with a :class:`Progress` at least
every couple of seconds; the CLI draws it with rich, the dashboard with ``st.progress``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """Where a piece of long work is.

    Attributes:
        stage: what is being done, for people ("reading rule files", "embedding").
        done: units done so far in this stage (items, or a fraction when ``total`` is 1).
        total: units in this stage, or None when unknown.
        message: an optional detail for people ("12 of 257 files").
    """

    stage: str
    done: float = 0
    total: float | None = None
    message: str = ""

    @property
    def fraction(self) -> float | None:
        """``done / total`` clipped to [0, 1], or None when the total is unknown."""
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))

    def describe(self) -> str:
        """One line for people: ``embedding 120/7836`` or ``fitting UMAP 40%``."""
        if self.total is None:
            count = ""
        elif self.total == 1:
            count = f" {self.fraction:.0%}"
        else:
            count = f" {self.done:g}/{self.total:g}"
        return f"{self.stage}{count}" + (f": {self.message}" if self.message else "")


#: A progress callback.
ProgressFn = Callable[[Progress], None]


__all__ = ["Progress", "ProgressFn"]
