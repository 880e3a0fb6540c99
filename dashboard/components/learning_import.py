"""The import offer: rule files found in the current project, or a folder the user names,
imported into a tier with progress, and the result shown afterwards."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.components.learning_views import FLAGGED
from dashboard.components.progress import drawer
from dashboard.components.scan_views import findings_table
from dashboard.components.text import escape
from dashboard.state import auth_mode, principal
from groove_core.errors import GrooveError
from groove_core.io.export import RELATIONS_LEFT_OUT
from groove_core.io.importer import import_paths
from groove_core.io.rules import find_in_project
from groove_core.serve import DashboardAuth
from groove_core.tiers import Groove, Tier

_RESULT = "import_result"
#: What each stage of an import is called on the progress bar.
_STAGES = {
    "reading": "Reading rule files",
    "checking": "Looking for rules the tier already has",
    "embedding": "Embedding learnings",
    "writing": "Writing to the tier",
}


def show_result() -> None:
    """The outcome of the last import of this session (once)."""
    result = st.session_state.pop(_RESULT, None)
    if not result:
        return
    tier, rep = result
    files = len(rep.files)
    msg = (
        f"Imported {rep.learnings_added:,} learning{'s' if rep.learnings_added != 1 else ''} "
        f"from {files} file{'s' if files != 1 else ''} into tier '{tier}'"
    )
    if rep.learnings_replaced:
        msg += f" ({rep.learnings_replaced:,} replaced)"
    if rep.learnings_skipped:
        msg += f" ({rep.learnings_skipped:,} already there, skipped)"
    if rep.learnings_duplicate:
        msg += f" ({rep.learnings_duplicate:,} repeated within the import, kept once)"
    left_out = sum(s.relations_skipped for s in rep.exports)
    if left_out:
        msg += (
            f" ({left_out:,} relation{'s' if left_out != 1 else ''} left out: {RELATIONS_LEFT_OUT})"
        )
    if rep.proposal is not None:
        st.info(
            f"Filed proposal {rep.proposal.id} in tier '{tier}' for review: "
            f"{len(rep.proposal.learning_ids)} learning(s) wait for a curator's approval on "
            "the Review queue page."
        )
    else:
        changed = rep.learnings_added or rep.learnings_replaced
        (st.success if changed or not rep.errors else st.warning)(msg + ".")
    if rep.flagged:
        n = len(rep.flagged)
        st.warning(
            f"{FLAGGED}: the content scan flagged {n} imported learning{'s' if n != 1 else ''} "
            "(secrets, prompt injection or hidden text). Review them before anyone relies on "
            "them: the Review queue page lists them."
        )
        findings_table([f for x in rep.flagged for f in x["findings"]], key="import_findings")
    if rep.errors:
        with st.expander(f"{len(rep.errors)} file(s) could not be imported", expanded=True):
            for e in rep.errors:
                st.text(e)


def import_offer(g: Groove, tiers: list[str], *, key: str = "imp") -> None:
    """Offer to import the project's rule files or a named folder into a tier."""
    if not tiers:
        st.error("No tier is open, so there is nowhere to import to.")
        return
    target = st.selectbox("Import into tier", tiers, key=f"{key}_tier")
    st.caption(
        "Supported: CLAUDE.md, AGENTS.md, .cursorrules and .mdc files (YAML front "
        "matter), or folders of them. Importing the same files again adds nothing."
    )

    left, right = st.columns(2, gap="large")
    chosen: list[Path] | None = None
    with left:
        st.markdown(f"**This project** · `{g.project}`")
        try:
            found = find_in_project(g.project)
        except GrooveError as err:
            st.warning(str(err))
            found = []
        if found:
            shown = "\n".join(f"- `{_rel(p, g.project)}`" for p in found[:12])
            more = f"\n- … and {len(found) - 12} more" if len(found) > 12 else ""
            st.markdown(shown + more)
            if st.button(
                f"Import {len(found)} rule file{'s' if len(found) != 1 else ''}",
                key=f"{key}_project",
                type="primary",
                icon=":material/download:",
            ):
                chosen = found
        else:
            st.caption(
                "No rule files found here (CLAUDE.md, AGENTS.md, .cursorrules, "
                ".cursor/rules/*.mdc, .github/copilot-instructions.md)."
            )
    with right:
        if auth_mode() is DashboardAuth.oidc:
            # a path names a file on the server, not on the signed-in person's computer
            st.caption(
                "Importing another folder reads the server's files, so it is not offered "
                "to people signed in from elsewhere: run `groove import PATH` on the server."
            )
        else:
            folder = st.text_input(
                "Folder or rule file to import",
                key=f"{key}_folder",
                placeholder="/path/to/project or /path/to/rules",
            )
            if st.button("Import folder", key=f"{key}_folder_go", icon=":material/folder_open:"):
                if not folder.strip():
                    st.error("Name a folder or a rule file first.")
                else:
                    chosen = [Path(folder.strip()).expanduser()]
    if chosen is None:
        return

    bar = st.progress(0.0, text="Reading rule files…")

    try:
        rep = import_paths(
            g.tier(target),
            chosen,
            progress=drawer(bar, _STAGES),
            skip_bad=True,
            actor=principal(),
        )
    except GrooveError as err:
        bar.empty()
        st.error(f"Nothing was imported: {escape(err)}")
        return
    bar.empty()
    st.session_state[_RESULT] = (target, rep)
    st.rerun()


def reembed_offer(tier: Tier) -> None:
    """When learnings of ``tier`` have no embedding (another program wrote them), say so
    and offer to embed them, with progress."""
    missing = tier.learnings.count_unembedded()
    if not missing:
        return
    with st.container(border=True):
        st.warning(
            f"{missing:,} learnings of tier '{tier.name}' have no embedding (written by "
            "another program?): semantic search does not find them, full-text search does."
        )
        if not st.button(f"Embed {missing:,} learnings", key=f"reembed_{tier.name}"):
            return
        bar = st.progress(0.0, text="Embedding…")
        try:
            tier.learnings.reembed(drawer(bar, {"embedding": "Embedding"}))
        except GrooveError as err:
            st.error(str(err))
            return
    st.rerun()


def _rel(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


__all__ = ["import_offer", "reembed_offer", "show_result"]
