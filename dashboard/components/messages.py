"""One-shot messages: an action queues one (:func:`flash`) for the next run of the page,
which shows and forgets them (:func:`show_flash`), so a callback or a change followed by
``st.rerun()`` can still tell the user what happened. The one mechanism of every page."""

from __future__ import annotations

import streamlit as st

from dashboard.components.text import escape, label
from groove_core.store.rows import left_out

_KEY = "flash_messages"
KINDS = ("success", "info", "warning", "error")


def flash(kind: str, text: str) -> None:
    """Queue a message of ``kind`` (one of :data:`KINDS`) for the next run.

    Raises:
        ValueError: an unknown kind (a programming error).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    st.session_state.setdefault(_KEY, []).append((kind, text))


def show_flash() -> None:
    """Show the queued messages, oldest first, and forget them."""
    for kind, text in st.session_state.pop(_KEY, []):
        getattr(st, kind)(text)


def left_out_warning(
    tier: str, found: dict[str, str], what: str = "learning", shown: int = 3
) -> None:
    """A warning naming the rows of ``tier`` (``what``: learning, capability gap) that a
    page left out because they do not follow groove's data contract (id -> what is
    wrong: :meth:`groove_core.tiers.Groove.unreadable`, ``unreadable_gaps``), the first
    ``shown`` with what is wrong; nothing when ``found`` is empty."""
    if not found:
        return
    lines = [escape(left_out(tier, len(found), what)) + "."]
    lines += [
        f"- {escape(i if len(i) <= 90 else i[:89] + '…')}: {label(detail, 200)}"
        for i, detail in list(found.items())[:shown]
    ]
    if len(found) > shown:
        lines.append(f"- and {len(found) - shown:,} more")
    st.warning("\n".join(lines))


__all__ = ["KINDS", "flash", "left_out_warning", "show_flash"]
