"""Learnings: filter, search, sort and page through learnings; a detail panel with the
full content, content-scan findings, usage, Beta confidence, relations and edit history;
a new learning, edit, delete (with undo), promote and bulk actions on selected rows. In an
enterprise tier a contributor's change is filed as a proposal for review (and said so).

The selected learning is ``?id=<uuid>`` in the address, so a link to it can be shared and
relation links select the learning at their other end."""

from __future__ import annotations

import math
from functools import partial

import streamlit as st

from dashboard.components import learning_changes as changes
from dashboard.components import learning_views as lv
from dashboard.components import scan_views as sv
from dashboard.state import groove, principal, report, tier_label, tier_names
from groove_core.analysis.posterior import density, summarize
from groove_core.errors import GrooveError
from groove_core.model.learning import Learning, LearningCategory
from groove_core.model.serde import check_uuid
from groove_core.model.usage import UsageStats
from groove_core.store.learnings import LearningFilter

ALL = "All tiers"
ANY = ""
PAGE_SIZES = (25, 50, 100)
SEARCH_LIMIT = 50
CATEGORIES = [c.value for c in LearningCategory]

st.title("Learnings")
g = groove()
names = tier_names(g)  # the real tiers: "all tiers" never mixes synthetic data in
synthetic = [n for n in tier_names(g, synthetic=True) if n not in names]
lv.show_flash()
ss = st.session_state


# ---------------------------------------------------------------- state helpers
def _new_view() -> None:
    """Filters or search changed: back to page 1, nothing selected."""
    ss.pop("page", None)  # the pager starts again at page 1
    ss["table_version"] = ss.get("table_version", 0) + 1
    st.query_params.pop("id", None)


def _select(learning_id: str) -> None:
    st.query_params["id"] = learning_id


def _picked() -> None:
    if ss.get("pick"):
        _select(ss["pick"])


def _rows_selected(key: str, ids: list[str]) -> None:
    rows = ss[key].selection.rows
    if len(rows) == 1:
        _select(ids[rows[0]])


def _changed() -> None:
    """Something was written: forget the table selection and cached facets."""
    ss["table_version"] = ss.get("table_version", 0) + 1
    ss["data_version"] = ss.get("data_version", 0) + 1


@st.cache_data(ttl=60, show_spinner=False)
def _facets(tier: str, version: int, home: str) -> dict[str, dict[str, int]]:
    return g.tier(tier).learnings.facets()


# ---------------------------------------------------------------- sidebar
with st.sidebar:
    st.header("Filter")
    if (wanted := st.query_params.get("tier")) in names + synthetic and "f_tier" not in ss:
        ss["f_tier"] = wanted
    tier_choice = st.selectbox(
        "Tier",
        [ALL, *names, *synthetic],
        key="f_tier",
        on_change=_new_view,
        format_func=lambda n: n if n == ALL else tier_label(g, n),
        help="All tiers means the real ones; a simulation tier (synthetic) is shown only "
        "when picked.",
    )
chosen = names if tier_choice == ALL else [tier_choice]

facets: dict[str, dict[str, int]] = {"scope": {}, "category": {}, "source_type": {}}
for name in chosen:
    try:
        got = _facets(name, ss.get("data_version", 0), str(g.home))
    except GrooveError as err:
        report(err)
        continue
    for col, counts in got.items():
        for k, n in counts.items():
            facets[col][k] = facets[col].get(k, 0) + n


def _options(col: str, extra: list[str] = ()) -> list[str]:
    values = sorted({*facets[col], *extra})
    return [ANY, *values]


def _label(col: str):
    def fmt(v: str) -> str:
        if v == ANY:
            return "any"
        return f"{v.replace('_', ' ') if col != 'scope' else v} ({facets[col].get(v, 0)})"

    return fmt


with st.sidebar:
    scope = st.selectbox(
        "Scope",
        _options("scope", [ss.get("f_scope") or ANY]),
        key="f_scope",
        format_func=_label("scope"),
        on_change=_new_view,
    )
    category = st.selectbox(
        "Category",
        _options("category", CATEGORIES),
        key="f_category",
        format_func=_label("category"),
        on_change=_new_view,
    )
    source = st.selectbox(
        "Source",
        _options("source_type", [ss.get("f_source") or ANY]),
        key="f_source",
        format_func=_label("source_type"),
        on_change=_new_view,
    )
    st.header("Search")
    query = st.text_input(
        "Search learnings",
        key="q",
        on_change=_new_view,
        placeholder="words or a question; Enter to search",
    )
    mode = st.radio(
        "Search mode",
        list(lv.MODE_LABELS),
        key="mode",
        horizontal=True,
        format_func=lv.MODE_LABELS.get,
        on_change=_new_view,
        help="Semantic: by meaning (embeddings). Full-text: by words (BM25). "
        "Hybrid: both, fused by reciprocal rank.",
    )
    st.header("Order")
    sort = st.selectbox(
        "Sort by",
        ["recency", "created", "confidence", "usage", "description"],
        key="sort",
        format_func=lv.SORT_LABELS.get,
        on_change=_new_view,
        disabled=bool(query.strip()),
        help="Search results are ordered by score.",
    )
    size = st.selectbox("Rows per page", PAGE_SIZES, index=1, key="size", on_change=_new_view)

flt = LearningFilter(scope=scope or None, category=category or None, source_type=source or None)

# ---------------------------------------------------------------- undo of the last delete
undo = ss.get("undo")
if undo:
    box = st.container(border=True)
    n = sum(len(v) for v in undo.values())
    box.write(f"Deleted {n} learning{'s' if n != 1 else ''}.")

    def _undo() -> None:
        restored, errors = g.restore_many(ss.pop("undo", {}), actor=principal())
        for e in errors:
            lv.flash("error", f"Could not restore {e}")
        _changed()
        if restored:
            lv.flash("success", f"Restored {restored} learning{'s' if restored != 1 else ''}.")

    c1, c2 = box.columns([1, 6])
    c1.button("Undo delete", key="undo_btn", on_click=_undo, icon=":material/undo:")
    c2.button("Dismiss", key="undo_dismiss", on_click=lambda: ss.pop("undo", None), type="tertiary")

changes.new_learning_button(g, names, principal(), lambda sub: _changed())

# ---------------------------------------------------------------- rows of this view
hits = None
items: list[Learning] = []
total = 0
searching = bool(query.strip())
try:
    if searching:
        hits = g.search(query, mode=mode, limit=SEARCH_LIMIT, tiers=chosen, flt=flt)
        items = [h.learning for h in hits]
        total = len(items)
    else:
        size = int(size)
        offset = (ss.get("page", 1) - 1) * size
        result = g.list(chosen, flt, sort=sort, limit=size, offset=offset)
        if not result.items and offset:  # the view shrank below this page: back to page 1
            ss.pop("page", None)
            result = g.list(chosen, flt, sort=sort, limit=size, offset=0)
        items, total = result.items, result.total
except GrooveError as err:
    report(err)

usage, marks = {}, {}
for name in chosen:
    in_tier = [lr.id for lr in items if lr.tier == name]
    if in_tier:
        try:
            usage.update(g.tier(name).learnings.usage_many(in_tier))
            marks.update(g.tier(name).learnings.scan_marks(in_tier))
        except GrooveError as err:
            report(err)

ids = [lr.id for lr in items]
by_id = {lr.id: lr for lr in items}

# the selected learning: ?id=..., else the first row
sel_id = st.query_params.get("id")
try:
    sel_id = check_uuid(sel_id) if sel_id else None
except GrooveError:
    st.warning(f"'{sel_id}' in the address is not a learning id.")
    sel_id = None
selected: Learning | None = None
if sel_id:
    selected = by_id.get(sel_id) or g.get(sel_id, chosen if chosen else None)
    if selected is None:
        selected = g.get(sel_id)
    if selected is None:
        st.info(f"Learning {sel_id} is not in any open tier (deleted?).")
if selected is None and items:
    selected = items[0]

left, right = st.columns([8, 5], gap="medium")

# ---------------------------------------------------------------- table
with left:
    if searching:
        st.subheader(f"{total} result{'s' if total != 1 else ''} for “{lv.short(query, 60)}”")
        st.caption(f"{lv.MODE_LABELS[mode]} search, best first (at most {SEARCH_LIMIT}).")
    elif total:
        first = (ss.get("page", 1) - 1) * int(size) + 1
        st.subheader(f"{total:,} learning{'s' if total != 1 else ''}")
        st.caption(f"Showing {first:,}–{first + len(items) - 1:,}, {lv.SORT_LABELS[sort].lower()}.")
    if not items:
        if searching:
            st.info("Nothing matches this search. Try other words or another search mode.")
        elif flt != LearningFilter():
            st.info("No learning matches these filters.")
        else:
            st.info("No learnings yet. The Overview page shows how to import rule files.")
    else:
        frame = lv.learnings_frame(items, usage, hits, show_tier=len(chosen) > 1, flagged=marks)
        table_key = f"rows_{ss.get('table_version', 0)}"
        event = st.dataframe(
            frame,
            key=table_key,
            on_select=partial(_rows_selected, table_key, ids),
            selection_mode="multi-row",
            hide_index=True,
            column_config=lv.TABLE_CONFIG,
            height=min(38 + 35 * len(frame), 740),
        )
        chosen_rows = [ids[i] for i in event.selection.rows if i < len(ids)]
        if not searching and total > int(size):
            st.pagination(max(1, math.ceil(total / int(size))), key="page", max_visible_pages=9)

        # bulk actions on the selected rows
        if chosen_rows:
            n = len(chosen_rows)
            with st.container(border=True):
                h1, h2 = st.columns([3, 2], vertical_alignment="center")
                h1.write(f"**{n} selected**")
                h2.button(
                    "Delete selected…",
                    key="bulk_delete",
                    icon=":material/delete:",
                    width="stretch",
                    on_click=lambda rows=chosen_rows: ss.update(
                        ask={"what": "delete", "ids": rows}
                    ),
                )
                c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
                c1.selectbox(
                    "New category",
                    CATEGORIES,
                    key="bulk_cat",
                    format_func=lambda c: c.replace("_", " "),
                )
                c2.button(
                    "Re-categorise selected…",
                    key="bulk_recat",
                    icon=":material/label:",
                    width="stretch",
                    on_click=lambda rows=chosen_rows: ss.update(
                        ask={"what": "recategorize", "ids": rows, "category": ss["bulk_cat"]}
                    ),
                )
        else:
            st.caption(
                "Tick rows to delete or re-categorise several at once; tick one to "
                "show it on the right."
            )


# ---------------------------------------------------------------- confirmations
def _clear_ask() -> None:
    ss.pop("ask", None)


def _confirm(ask: dict) -> None:
    todo = ask["ids"]
    n = len(todo)
    noun = f"{n} learning{'s' if n != 1 else ''}"
    if ask["what"] == "delete":
        st.write(f"Delete {noun}? You can undo this right after.")
    else:
        st.write(f"Set the category of {noun} to **{ask['category'].replace('_', ' ')}**?")
    for i in todo[:8]:
        lr = by_id.get(i)
        st.caption(f"• {lv.short(lr.description, 80) if lr else i}")
    if n > 8:
        st.caption(f"… and {n - 8} more")
    c1, c2 = st.columns(2)
    if c1.button(
        "Yes, delete" if ask["what"] == "delete" else "Yes, re-categorise",
        key="confirm_yes",
        type="primary",
    ):
        try:
            where = g.by_tier(todo, chosen)
            if ask["what"] == "delete":
                subs = g.delete_many(todo, tiers=chosen, actor=principal())
            else:
                subs = g.recategorize_many(todo, ask["category"], tiers=chosen, actor=principal())
        except GrooveError as err:
            lv.flash("error", str(err))
        else:
            for sub in subs:
                if sub.proposal is not None:
                    changes.announce(sub, "")
            done = sum(s.count for s in subs if s.applied)
            if ask["what"] == "delete":
                ss["undo"] = {s.tier: where[s.tier] for s in subs if s.applied and s.count}
                if st.query_params.get("id") in todo:
                    st.query_params.pop("id", None)
            elif done:
                lv.flash(
                    "success",
                    f"Re-categorised {done} learning{'s' if done != 1 else ''}"
                    f" as {ask['category'].replace('_', ' ')}.",
                )
        _changed()
        _clear_ask()
        st.rerun()
    if c2.button("Cancel", key="confirm_no"):
        _clear_ask()
        st.rerun()


if ss.get("ask"):
    _ask = ss["ask"]
    _noun = "learning" if len(_ask["ids"]) == 1 else "learnings"
    _verb = "Delete" if _ask["what"] == "delete" else "Re-categorise"
    st.dialog(f"{_verb} {_noun}?", on_dismiss=_clear_ask)(_confirm)(_ask)


def _mark(lr: Learning):
    """The scan mark of a learning not in this view's rows."""
    try:
        return g.tier(lr.tier).learnings.scan_marks([lr.id]).get(lr.id)
    except GrooveError as err:
        report(err)


# ---------------------------------------------------------------- detail panel
with right:
    if selected is None:
        st.caption("Select a learning to see its details.")
    else:
        lr = selected
        if len(ids) > 1 or (lr.id not in by_id and ids):
            options = ids if lr.id in by_id else [lr.id, *ids]
            labels = {
                i: lv.short(by_id[i].description, 70)
                if i in by_id
                else lv.short(lr.description, 70)
                for i in options
            }
            ss["pick"] = lr.id
            st.selectbox(
                "Show details of", options, key="pick", on_change=_picked, format_func=labels.get
            )
        tier_store = g.tier(lr.tier).learnings
        mark = marks.get(lr.id) or _mark(lr)
        st.subheader(lv.short(lr.description, 120))
        st.caption(
            f"`{lr.id}` · tier **{lr.tier}** · {lr.category.value.replace('_', ' ')}"
            f" · scope `{lr.scope.to_db()}`" + (f" · **{sv.BADGE}**" if mark else "")
        )
        try:
            related = tier_store.related(lr.id)
            edits = tier_store.history(lr.id)
        except GrooveError as err:
            report(err)
            related, edits = [], []
        tabs = st.tabs(
            [
                "Content",
                "Edit",
                "Confidence",
                f"Relations ({len(related)})",
                f"History ({len(edits)})",
                "Promote",
            ]
        )
        with tabs[0]:
            if lv.short(lr.description, 120) != lr.description:
                st.markdown("**Description**")
                st.text(lr.description)
            st.markdown("**Insight**")
            st.text(lr.insight or "(none)")
            st.markdown(f"**Source:** {lr.source.describe()}")
            st.caption(f"Created {lv.when(lr.created_at)} · updated {lv.when(lr.updated_at)}")
            if lr.content.pattern is not None:
                with st.expander("Pattern"):
                    st.json(lr.content.pattern)
            sv.scan_mark(mark, key=f"scan_{lr.id}")

        with tabs[1]:
            form_key = f"{lr.id}_{int(lr.updated_at.timestamp())}"

            def _save(lid: str = lr.id, tier: str = lr.tier, k: str = form_key) -> None:
                try:
                    sub = g.edit(
                        tier,
                        lid,
                        description=ss[f"e_desc_{k}"].strip(),
                        insight=ss[f"e_ins_{k}"],
                        category=ss[f"e_cat_{k}"],
                        scope=ss[f"e_scope_{k}"].strip(),
                        actor=principal(),
                    )
                except GrooveError as err:
                    ss["edit_error"] = (lid, str(err))
                    return
                ss.pop("edit_error", None)
                _changed()
                st.query_params["id"] = lid
                saved = sub.learnings[0].description if sub.learnings else ""
                changes.announce(sub, f"Saved “{lv.short(saved, 60)}”.")

            with st.form(f"edit_{form_key}", border=False):
                st.text_input(
                    "Description", lr.description, key=f"e_desc_{form_key}", max_chars=100_000
                )
                st.text_area("Insight", lr.insight, key=f"e_ins_{form_key}", height=140)
                st.selectbox(
                    "Category",
                    CATEGORIES,
                    index=CATEGORIES.index(lr.category.value),
                    key=f"e_cat_{form_key}",
                    format_func=lambda c: c.replace("_", " "),
                )
                st.text_input(
                    "Scope",
                    lr.scope.to_db(),
                    key=f"e_scope_{form_key}",
                    help="global, user:<id>, project:<path> or enterprise:<org>",
                )
                st.form_submit_button("Save changes", type="primary", on_click=_save, key="save")
            err = ss.get("edit_error")
            if err and err[0] == lr.id:
                st.error(f"Not saved: {err[1]}")
            st.button(
                "Delete this learning…",
                key="delete_one",
                icon=":material/delete:",
                on_click=lambda lid=lr.id: ss.update(ask={"what": "delete", "ids": [lid]}),
            )

        with tabs[2]:
            try:
                # the page's usage rows are already read; a learning without one has
                # the prior's defaults
                stats = (
                    (usage.get(lr.id) or UsageStats())
                    if lr.id in by_id
                    else (tier_store.usage(lr.id))
                )
            except GrooveError as err:
                report(err)
            else:
                post = summarize(stats.confidence_alpha, stats.confidence_beta)
                st.metric(
                    "Confidence (posterior mean)",
                    f"{post.mean:.2f}",
                    help="Mean of the Beta posterior over the chance this learning "
                    "helps when injected.",
                )
                st.caption(
                    f"95% equal-tailed credible interval {post.ci_low:.2f}–{post.ci_high:.2f} · "
                    f"Beta(α={stats.confidence_alpha:g}, β={stats.confidence_beta:g})"
                )
                st.plotly_chart(
                    lv.confidence_chart(
                        density(stats.confidence_alpha, stats.confidence_beta),
                        post.mean,
                        post.ci_low,
                        post.ci_high,
                    ),
                    key=f"post_{lr.id}",
                    config={"displayModeBar": False},
                )
                lv.usage_metrics(stats)

        with tabs[3]:
            lv.relation_links(related, _select, key=f"rel_{lr.id}")

        with tabs[4]:
            lv.history_entries(edits)

        with tabs[5]:
            changes.promote_form(g, lr, names, principal())
