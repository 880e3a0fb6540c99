"""The fingerprint scatter: plotly figure of a projection, coloured by cluster, by
associated learning or by time, with the context summary on hover, and the points a
person selected."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dashboard.components.openworld_common import UNCLUSTERED, short

COLOR_BY = {
    "cluster": "Cluster",
    "learning": "Associated learning",
    "time": "Time seen",
}
MAX_POINTS = 4000
_GREY = "#c7c7c7"


def figure(
    frame: pd.DataFrame, color_by: str, *, highlight: set[int] | None = None, height: int = 560
) -> go.Figure:
    """A scatter of ``frame`` (columns x, y, id, summary, cluster, learning, created_at).

    ``highlight``: hashes drawn large on top (the rest dimmed), e.g. a gap's contexts.
    Every point carries its id in ``customdata[0]`` so a selection can name it.
    """
    data = frame.copy()
    data["hover"] = data["summary"].map(lambda s: short(s, 110))
    data["when"] = data["created_at"].dt.strftime("%Y-%m-%d %H:%M")
    hover = {
        "hover": True,
        "cluster": True,
        "learning": True,
        "when": True,
        "x": False,
        "y": False,
        "id": False,
    }
    common = dict(
        x="x",
        y="y",
        custom_data=["id"],
        hover_data=hover,
        height=height,
        render_mode="webgl" if len(data) > 2000 else "auto",
    )
    if color_by == "time":
        data["days ago"] = (
            pd.Timestamp.now(tz="UTC") - data["created_at"]
        ).dt.total_seconds() / 86400
        fig = px.scatter(data, color="days ago", color_continuous_scale="Viridis_r", **common)
    else:
        col = "cluster" if color_by == "cluster" else "learning"
        order = sorted(
            data[col].unique(),
            key=lambda v: (v == UNCLUSTERED or v == "none", str(v).startswith("proposed"), v),
        )
        palette = px.colors.qualitative.Bold + px.colors.qualitative.Pastel
        cmap = {v: palette[i % len(palette)] for i, v in enumerate(order)}
        for v in order:
            if v in (UNCLUSTERED, "none"):
                cmap[v] = _GREY
        fig = px.scatter(
            data, color=col, category_orders={col: order}, color_discrete_map=cmap, **common
        )
    fig.update_traces(marker={"size": 7, "opacity": 0.85})
    if highlight:
        mask = data["hash"].isin(highlight)
        fig.update_traces(marker={"opacity": 0.25})
        sel = data[mask]
        fig.add_trace(
            go.Scatter(
                x=sel["x"],
                y=sel["y"],
                mode="markers",
                name="this gap's contexts",
                customdata=sel[["id"]].to_numpy(),
                text=sel["hover"],
                hovertemplate="%{text}<extra>this gap</extra>",
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
