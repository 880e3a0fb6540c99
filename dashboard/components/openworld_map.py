"""The fingerprint scatter: plotly figure of a projection, coloured by cluster, by
associated learning or by time, with the context summary on hover, and the points a
person selected."""

from __future__ import annotations

import textwrap

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dashboard.components.openworld_common import UNCLUSTERED
from dashboard.components.text import plot_label, short

COLOR_BY = {
    "cluster": "Cluster",
    "learning": "Associated learning",
    "time": "Time seen",
}
MAX_POINTS = 4000
#: Learnings with the most fingerprints that get a colour of their own.
TOP_LEARNINGS = 10
NO_LEARNING = "no learning"
OTHER_LEARNINGS = "other learnings"
_GREY = "#c7c7c7"
_MUTED = "#8c8c8c"
_HOVER = (
    "<b>%{customdata[1]}</b><br>"
    "cluster: %{customdata[2]}<br>"
    "learning: %{customdata[3]}<br>"
    "seen: %{customdata[4]}<extra></extra>"
)


def learning_groups(learning_ids: pd.Series, names: dict[str, str]) -> tuple[pd.Series, str]:
    """The colour group of each fingerprint by its associated learning: the
    :data:`TOP_LEARNINGS` learnings with the most fingerprints by name, the rest as
    ``other learnings``, none as ``no learning``; and a sentence saying so."""
    counts = learning_ids.dropna().value_counts()
    top = list(counts.index[:TOP_LEARNINGS])
    label = {
        lid: f"{short(names.get(lid, lid).replace('**', ''), 40)} ({counts[lid]})" for lid in top
    }
    groups = learning_ids.map(
        lambda i: NO_LEARNING if pd.isna(i) else label.get(i, OTHER_LEARNINGS)
    )
    rest = len(counts) - len(top)
    note = f"{len(counts):,} learning{'s' if len(counts) != 1 else ''} linked to fingerprints"
    if rest > 0:
        note += f"; the {len(top)} with the most have a colour, the other {rest:,} share one"
    return groups, note + "."


def _hover_text(text: str) -> str:
    """A context summary for the hover label: wrapped at 80 characters, at most 4 lines,
    HTML-escaped (plotly renders hover text as HTML)."""
    lines = textwrap.wrap(" ".join(str(text).split()), 80) or [""]
    if len(lines) > 4:
        lines = [*lines[:3], lines[3] + " …"]
    return "<br>".join(plot_label(line) for line in lines)


def figure(
    frame: pd.DataFrame, color_by: str, *, highlight: set[int] | None = None, height: int = 560
) -> go.Figure:
    """A scatter of ``frame`` (columns x, y, id, hash, summary, cluster, learning,
    created_at; ``learning group`` to colour by learning, see :func:`learning_groups`).

    ``highlight``: hashes drawn large on top (the rest dimmed), e.g. a gap's contexts.
    Every point carries its id in ``customdata[0]`` so a selection can name it; hovering
    shows the context summary (wrapped), its cluster, learning and when it was seen.
    """
    data = frame.copy()
    data["hover"] = data["summary"].map(_hover_text)
    data["when"] = data["created_at"].dt.strftime("%Y-%m-%d %H:%M UTC")
    data["learning_text"] = data["learning"].map(plot_label)
    webgl = len(data) > 2000
    mask = data["hash"].isin(highlight or ())
    sel, data = data[mask], data[~mask]  # highlighted points are drawn once, on top
    custom = ["id", "hover", "cluster", "learning_text", "when"]
    common = dict(
        x="x",
        y="y",
        custom_data=custom,
        height=height,
        render_mode="webgl" if webgl else "auto",
    )
    if color_by == "time":
        data["days ago"] = (
            pd.Timestamp.now(tz="UTC") - data["created_at"]
        ).dt.total_seconds() / 86400
        fig = px.scatter(data, color="days ago", color_continuous_scale="Viridis_r", **common)
    else:
        col = "cluster" if color_by == "cluster" else "learning group"
        data = data.assign(**{col: data[col].map(plot_label)})  # HTML
        muted = {UNCLUSTERED: _GREY, NO_LEARNING: _GREY, OTHER_LEARNINGS: _MUTED}
        order = sorted(
            data[col].unique(),
            key=lambda v: (v in muted, str(v).startswith("proposed"), str(v)),
        )
        palette = px.colors.qualitative.Bold[:-1] + px.colors.qualitative.Vivid[:-1]  # no greys
        cmap = {v: muted.get(v, palette[i % len(palette)]) for i, v in enumerate(order)}
        fig = px.scatter(
            data, color=col, category_orders={col: order}, color_discrete_map=cmap, **common
        )
    fig.update_traces(marker={"size": 7, "opacity": 0.85}, hovertemplate=_HOVER)
    if highlight:
        fig.update_traces(marker={"opacity": 0.25})
        # the same renderer as the points below it (WebGL above 2,000 points)
        scatter = go.Scattergl if webgl else go.Scatter
        fig.add_trace(
            scatter(
                x=sel["x"],
                y=sel["y"],
                mode="markers",
                name="this gap's contexts",
                customdata=sel[custom].to_numpy(),
                hovertemplate=_HOVER,
                marker={"size": 12, "color": "#d62728", "line": {"width": 1, "color": "black"}},
            )
        )
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"title": None, "itemsizing": "constant"},
        xaxis={"visible": False},
        yaxis={"visible": False},
        dragmode="lasso",
        hovermode="closest",
        hoverlabel={"bgcolor": "white", "font_size": 13, "align": "left"},
    )
    return fig


def selected_ids(event) -> list[str]:
    """Fingerprint ids of the points selected in a ``st.plotly_chart`` event."""
    try:
        points = event.selection.points  # type: ignore[union-attr]
    except AttributeError:
        try:
            points = event["selection"]["points"]
        except (KeyError, TypeError):
            return []
    out = []
    for p in points or []:
        cd = p.get("customdata") if isinstance(p, dict) else None
        if cd:
            out.append(str(cd[0] if isinstance(cd, list | tuple) else cd))
    return list(dict.fromkeys(out))
