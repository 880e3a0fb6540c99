"""One-shot messages: an action queues one (:func:`flash`) for the next run of the page,
which shows and forgets them (:func:`show_flash`), so a callback or a change followed by
``st.rerun()`` can still tell the user what happened. The one mechanism of every page."""

from __future__ import annotations

import streamlit as st

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


__all__ = ["KINDS", "flash", "show_flash"]
