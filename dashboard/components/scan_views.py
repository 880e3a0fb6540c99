"""Content-scan findings as people read them (see :mod:`groove_core.scan`): a table of
rule, where and message, and the mark a flagged learning carries, with the curator's
override when one let it in. Everything shown comes from groove_core."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from dashboard.components.learning_views import FLAGGED
from dashboard.components.messages import flash
from dashboard.components.progress import drawer
from dashboard.components.text import escape
from groove_core.errors import GrooveError
from groove_core.model.access import Action, Principal
from groove_core.scan import Finding
from groove_core.store.scanning import ScanMark
from groove_core.tiers import Tier

#: The badge of a learning the content scan flagged (table column and detail panel).
BADGE = FLAGGED


def findings_frame(findings: Sequence[Finding | dict]) -> pd.DataFrame:
    """One row per finding: ``rule``, ``where`` (``CLAUDE.md:12`` or ``insight:3``) and
    ``message``. Accepts :class:`Finding` objects or their ``to_json`` dicts (as a
    proposal stores them)."""
    rows = []
    for f in findings:
        f = f if isinstance(f, Finding) else Finding.from_json(f)
        rows.append({"rule": f.rule, "where": f.where(), "message": f.message})
    return pd.DataFrame(rows, columns=["rule", "where", "message"])


def findings_table(findings: Sequence[Finding | dict], *, key: str) -> None:
    """The findings as a table (nothing when there are none)."""
    if findings:
        st.dataframe(findings_frame(findings), key=key, hide_index=True, width="stretch")


def scan_mark(mark: ScanMark | None, *, key: str) -> None:
    """A learning's stored scan mark: a warning naming how many findings, the findings,
    and who let it in despite them and why (when a curator did)."""
    if mark is None:
        return
    n = len(mark.findings)
    st.warning(
        f"{BADGE}: the content scan found {n} problem{'s' if n != 1 else ''} in this learning "
        "(secrets, prompt injection or hidden text)."
    )
    findings_table(mark.findings, key=key)
    if mark.override_reason:
        st.caption(f"Let in by {escape(mark.override_by)}: {escape(mark.override_reason)}")


def flagged_frame(tier_name: str, learnings: Sequence, marks: dict[str, ScanMark]) -> pd.DataFrame:
    """One row per flagged learning: a link opening it on the Learnings page, its
    description, the rules found and who let it in (None when nobody overrode the scan;
    the table shows :data:`~dashboard.components.text.MISSING`)."""
    rows = []
    for lr in learnings:
        mark = marks.get(lr.id)
        rules = sorted({f.rule for f in mark.findings}) if mark else []
        rows.append(
            {
                "open": f"/learnings?{urlencode({'tier': tier_name, 'id': lr.id})}",
                "description": lr.description,
                "rules": ", ".join(rules),
                "let in by": mark.override_by if mark else None,
            }
        )
    return pd.DataFrame(rows, columns=["open", "description", "rules", "let in by"])


#: Column settings of :func:`flagged_frame`'s table.
FLAGGED_CONFIG = {
    "open": st.column_config.LinkColumn("Learning", display_text="open", width="small"),
    "description": st.column_config.TextColumn("Description", width="large"),
    "rules": st.column_config.TextColumn("Found"),
    "let in by": st.column_config.TextColumn("Let in by"),
}


def scan_offer(tier: Tier, actor: Principal) -> None:
    """For someone who may (a curator in an enterprise tier): a button that content-scans
    the learnings of ``tier`` that carry no scan mark yet (rows another program wrote
    skip groove's scan) and marks the findings, with progress; the next run says how
    many it flagged."""
    try:
        tier.learnings.writer.authorize(Action.learning_scan, actor)
    except GrooveError:
        return
    if not st.button(
        "Scan the learnings no scan has seen",
        key=f"scan_all_{tier.name}",
        help="Rows another program (vibes-groove) wrote skip the content scan of groove's "
        "own writes: this scans them for secrets and prompt injection and flags what it "
        "finds (recorded in the audit log).",
    ):
        return
    bar = st.progress(0.0, text="Scanning…")
    try:
        n = tier.learnings.scan_all(drawer(bar), actor=actor)
    except GrooveError as err:
        flash("error", escape(err))
    else:
        flash(
            "warning" if n else "success",
            f"The scan flagged {n:,} more learning{'s' if n != 1 else ''}.",
        )
    st.rerun()


__all__ = [
    "BADGE",
    "FLAGGED_CONFIG",
    "findings_frame",
    "findings_table",
    "flagged_frame",
    "scan_mark",
    "scan_offer",
]
