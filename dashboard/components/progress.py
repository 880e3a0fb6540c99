"""The dashboard's one drawing of groove's progress protocol
(:class:`groove_core.progress.Progress`, docs/architecture.md#progress) with
``st.progress``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import streamlit as st

from groove_core.progress import Progress, ProgressFn


def show(
    p: Progress | None,
    *,
    bar: Any = None,
    labels: Mapping[str, str] | None = None,
    prefix: str = "",
    suffix: str = "",
) -> None:
    """Draw ``p`` on ``bar`` (an ``st.progress`` element; a new one when None): the bar at
    its fraction (empty while the total is unknown), the text its stage (renamed by
    ``labels``), count and message between ``prefix`` and ``suffix``. ``p`` None: the
    work has not reported yet."""
    if p is None:
        fraction, text = 0.0, "starting the worker"
    else:
        fraction = p.fraction or 0.0
        text = replace(p, stage=(labels or {}).get(p.stage, p.stage)).describe()
    (bar or st).progress(fraction, text=f"{prefix}{text}{suffix}")


def drawer(bar: Any, labels: Mapping[str, str] | None = None) -> ProgressFn:
    """A :data:`~groove_core.progress.ProgressFn` drawing every report on ``bar``."""
    return lambda p: show(p, bar=bar, labels=labels)


__all__ = ["drawer", "show"]
