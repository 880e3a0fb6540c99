"""Widgets of the Audit page: audit entries as a table and the result of verifying the
hash chain. Everything shown comes from :class:`groove_core.store.audit.AuditLog`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from enum import Enum

import pandas as pd
import streamlit as st

from dashboard.components.identity import how
from groove_core.model.access import AuditEntry
from groove_core.store.audit import Verification


def action_prefixes(actions: Iterable[Enum]) -> list[str]:
    """Each family of actions (``learning.``) followed by its actions (``learning.edit``)."""
    out: list[str] = []
    for a in actions:
        family = a.value.split(".", 1)[0] + "."
        if family not in out:
            out.append(family)
        out.append(a.value)
    return out


def entries_frame(entries: Sequence[AuditEntry]) -> pd.DataFrame:
    """One row per entry: seq, time, principal (id), name, how identified, action,
    target and detail (its JSON)."""
    rows = [
        {
            "seq": e.seq,
            "time": e.at.replace(tzinfo=None),
            "principal": e.principal,
            "name": e.principal_name,
            "identified": how(e.via),
            "action": e.action,
            "target": e.target,
            "detail": json.dumps(e.detail, ensure_ascii=False, sort_keys=True) if e.detail else "",
        }
        for e in entries
    ]
    return pd.DataFrame(
        rows,
        columns=["seq", "time", "principal", "name", "identified", "action", "target", "detail"],
    )


ENTRIES_CONFIG = {
    "seq": st.column_config.NumberColumn("Seq", format="%d"),
    "time": st.column_config.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "principal": st.column_config.TextColumn("Principal"),
    "name": st.column_config.TextColumn("Name"),
    "identified": st.column_config.TextColumn(
        "Identified", help="How the identity was established"
    ),
    "detail": st.column_config.TextColumn("Detail", width="large"),
}


def verification(v: Verification, anchor: tuple[int, str] | None = None) -> None:
    """ "Chain intact" with the entry count and the head to keep (``SEQ:HASH``, to check
    against next time), or "Chain broken" with the first bad entry and what is wrong
    there. ``anchor``: the kept head the check was given, if any."""
    if v.ok:
        held = f" Entry {anchor[0]} has the hash you kept." if anchor else ""
        st.success(
            f"Chain intact: {v.entries} entries.{held} Keep this head outside the tier to "
            f"check against next time: `{v.head_seq}:{v.head_hash}`"
        )
    else:
        st.error(
            f"Chain broken at entry {v.first_bad}: {v.problem}. "
            f"{v.entries} entries read; the last good one is entry {v.head_seq}."
        )


__all__ = ["ENTRIES_CONFIG", "action_prefixes", "entries_frame", "verification"]
