"""Review queue: the proposals of a tier awaiting review (author, time, kind, reason); for
the selected one its learnings before and after side by side, the content-scan findings
and the most similar existing learnings; then the curator's decision or the author's
withdrawal or revision.

Above them, the learnings of the tier that the content scan flagged (an import keeps and
marks them in a user or project tier), each linked to the Learnings page, and a link
to all of them there (``?flagged=true``).

The selected proposal is ``?proposal=<uuid>`` in the address."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from dashboard.components import learning_views as lv
from dashboard.components import proposal_views as pv
from dashboard.components import review_actions, scan_views
from dashboard.components.text import MISSING, distinct, words
from dashboard.state import enterprise, open_page, pick_tier, principal, report, waiting_counts
from groove_core.errors import GrooveError
from groove_core.model.learning import Learning
from groove_core.model.proposal import ProposalKind
from groove_core.store.embeddings import text_for_embedding
from groove_core.store.listing import LearningFilter

SHOWN = 10  # learnings of one proposal shown side by side
SIMILAR = 5

g, names = open_page("Review queue")
me = principal()
waiting = waiting_counts(g, names)
busy = [n for n in names if n.startswith("enterprise:") and waiting.get(n)]
tier_name = pick_tier(
    g,
    key="rv_tier",
    names=names,
    prefer=[*busy, *enterprise(names)],
    format_func=lambda n: f"{n} ({waiting.get(n, 0)} waiting)",
)
show_all = st.sidebar.toggle("Show decided proposals too", key="rv_all")
tier = g.tier(tier_name)
try:
    role = tier.role(me)
    proposals = tier.proposals.list(None) if show_all else tier.proposals.list()
except GrooveError as err:
    report(err)
    st.stop()
n = waiting.get(tier_name, 0)
st.caption(
    f"Tier **{tier_name}** · {n} proposal{'s' if n != 1 else ''} waiting · you are "
    f"{lv.escape(me)} ({role.name if role else 'no role'} here)"
)
try:
    flagged = tier.learnings.flagged_ids()
    flagged_rows = sorted(
        tier.learnings.get_many(flagged, skip_unreadable=True), key=lambda lr: flagged.index(lr.id)
    )
    marks = tier.learnings.scan_marks(flagged)
    n_flagged = tier.learnings.count(LearningFilter(flagged=True)) if flagged_rows else 0
except GrooveError as err:
    report(err)
    flagged_rows, marks, n_flagged = [], {}, 0
if flagged_rows:
    with st.expander(
        f"{scan_views.BADGE}: {n_flagged:,} learning(s) of this tier the content scan "
        "flagged (secrets, prompt injection or hidden text)"
    ):
        listed = f"/learnings?{urlencode({'tier': tier_name, 'flagged': 'true'})}"
        if n_flagged <= len(flagged_rows):
            st.markdown(f"[List them on the Learnings page]({listed}) to search or edit them.")
        else:
            st.markdown(
                f"The table shows the newest {len(flagged_rows):,}; "
                f"[list all {n_flagged:,} on the Learnings page]({listed})."
            )
        st.dataframe(
            scan_views.flagged_frame(tier_name, flagged_rows, marks),
            key=f"rv_flagged_{tier_name}",
            hide_index=True,
            column_config=scan_views.FLAGGED_CONFIG,
            placeholder=MISSING,  # "let in by" of a learning nobody let in
        )
scan_views.scan_offer(tier, me)
if not proposals:
    st.info(f"No proposal is waiting for review in tier '{tier_name}'.")
    st.stop()

st.dataframe(
    pv.proposals_frame(proposals),
    key=f"rv_rows_{tier_name}",
    hide_index=True,
    column_config=pv.PROPOSALS_CONFIG,
)
by_id = {p.id: p for p in proposals}
ids = list(by_id)
chosen = st.query_params.get("proposal")
pick = st.selectbox(
    "Review proposal",
    ids,
    index=ids.index(chosen) if chosen in by_id else 0,
    format_func=distinct({i: pv.describe(p) for i, p in by_id.items()}).get,
)
st.query_params["proposal"] = pick
p = by_id[pick]

# ---------------------------------------------------------------- the proposal
st.subheader(f"Proposal {p.id}")
author = p.author if p.author_name == p.author else f"{p.author_name} <{p.author}>"
st.markdown(
    f"**{p.kind.value}** by **{lv.escape(author)}** · filed {lv.when(p.created_at)} · "
    f"status **{words(p.status.value)}** · {len(p.learning_ids)} learning(s)"
)
if p.reason:
    st.markdown(f"**Reason:** {lv.escape(p.reason)}")
if p.source:
    st.caption(
        f"Promoted from tier {lv.escape(p.source.get('tier'))}, "
        f"learning {lv.escape(p.source.get('id'))}"
    )
if p.decided_by:
    st.info(f"{lv.escape(p.decided_by)}: {lv.escape(p.decision_note or p.status.value)}")
    if p.override_reason:
        st.caption(f"Content-scan override: {lv.escape(p.override_reason)}")

before = {b.id: b for b in map(Learning.from_json, p.before)}
after = [Learning.from_json(a) for a in p.after]
pairs = [(before.get(a.id), a) for a in after] or [(b, None) for b in before.values()]
for i, (old, new) in enumerate(pairs[:SHOWN]):
    with st.container(border=True):
        if len(pairs) > 1:
            st.markdown(f"**{i + 1}.** {lv.escape(lv.short((new or old).description, 90))}")
        pv.side_by_side(old, new)
if len(pairs) > SHOWN:
    st.caption(f"… and {len(pairs) - SHOWN} more learnings in this proposal.")

st.markdown("**Content scan**")
if p.findings:
    st.warning(
        f"{len(p.findings)} finding(s): approving needs a written override reason, "
        "recorded with the learnings."
    )
    scan_views.findings_table(p.findings, key=f"rv_findings_{p.id}")
else:
    st.caption("The content scan found nothing in what this proposal would write.")

subject = pairs[0][1] or pairs[0][0]
st.markdown("**Most similar learnings already in this tier** (semantic search)")
try:
    hits = tier.search.search(text_for_embedding(subject.content), mode="semantic", limit=SIMILAR)
except GrooveError as err:
    report(err)
    hits = []
if hits:
    this = subject.id if p.kind in (ProposalKind.edit, ProposalKind.delete) else None
    st.dataframe(
        pv.similar_frame(hits, this),
        key=f"rv_similar_{p.id}",
        hide_index=True,
        column_config=pv.SIMILAR_CONFIG,
    )
else:
    st.caption("No learning of this tier is similar (or none is embedded).")

# ---------------------------------------------------------------- decisions
if p.status.is_final:
    st.caption(f"Proposal {p.id} is {p.status.value}; nothing more to decide.")
    st.stop()
st.divider()
review_actions.author_actions(tier, p, me)
review_actions.decision_forms(tier, p, me, role)
