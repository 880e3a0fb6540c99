"""Plotly figures of the evidence pages. Every number plotted comes from
``groove_core.analysis`` (or the store); these functions only draw."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.text import plot_label
from groove_core.analysis.posterior import PosteriorSummary

OUTCOME_COLORS = {"helpful": "#2e7d32", "ignored": "#9e9e9e", "contradicted": "#c62828"}
STATUS_COLORS = {"positive": "#2e7d32", "negative": "#c62828", "inconclusive": "#757575"}
BAND = "rgba(25, 118, 210, 0.18)"
LINE = "#1976d2"


def _layout(fig: go.Figure, *, x: str, y: str, height: int = 360) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title=x,
        yaxis_title=y,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="closest",
    )
    return fig


def posterior_figure(
    dens: pd.DataFrame,
    s: PosteriorSummary,
    x_title: str = "confidence (probability that injecting it helps)",
) -> go.Figure:
    """A Beta density (``dens``: x, pdf from analysis.posterior.density) with the credible
    interval shaded and the mean and the threshold marked."""
    fig = go.Figure()
    inside = dens[(dens["x"] >= s.ci_low) & (dens["x"] <= s.ci_high)]
    fig.add_trace(
        go.Scatter(
            x=inside["x"],
            y=inside["pdf"],
            fill="tozeroy",
            fillcolor=BAND,
            mode="lines",
            line={"width": 0},
            name=f"{s.level:.0%} equal-tailed credible interval",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=dens["x"],
            y=dens["pdf"],
            mode="lines",
            line={"color": LINE, "width": 2},
            name=f"Beta({s.alpha:g}, {s.beta:g})",
            hovertemplate="confidence %{x:.3f}<br>density %{y:.2f}",
        )
    )
    fig.add_vline(
        x=s.mean,
        line={"color": LINE, "dash": "solid", "width": 1.5},
        annotation_text=f"mean {s.mean:.3f}",
        annotation_position="top",
    )
    if s.threshold is not None:
        fig.add_vline(
            x=s.threshold,
            line={"color": "#e65100", "dash": "dash", "width": 1.5},
            annotation_text=f"threshold {s.threshold:.2f}",
            annotation_position="bottom right",
        )
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(rangemode="tozero")  # a flat Beta(1, 1) is a line at 1, not noise
    return _layout(fig, x=x_title, y="density")


def trajectory_figure(traj: pd.DataFrame) -> go.Figure:
    """Posterior mean over time with its band (analysis.posterior.trajectory) and the
    outcome events as markers."""
    fig = go.Figure()
    t = traj["timestamp"]
    fig.add_trace(
        go.Scatter(
            x=t,
            y=traj["ci_high"],
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
            line_shape="hv",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=t,
            y=traj["ci_low"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=BAND,
            name="95% equal-tailed credible interval (pointwise)",
            hoverinfo="skip",
            line_shape="hv",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=t,
            y=traj["mean"],
            mode="lines",
            line={"color": LINE, "width": 2},
            name="posterior mean",
            line_shape="hv",
            hovertemplate="%{x}<br>mean %{y:.3f}",
        )
    )
    events = traj[traj["outcome"].notna()]
    for outcome, color in OUTCOME_COLORS.items():
        sel = events[events["outcome"] == outcome]
        if sel.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=sel["timestamp"],
                y=sel["mean"],
                mode="markers",
                name=outcome,
                marker={"color": color, "size": 7, "line": {"width": 0.5, "color": "white"}},
                hovertemplate=f"{outcome}<br>%{{x}}<br>mean after %{{y:.3f}}<extra></extra>",
            )
        )
    fig.update_yaxes(range=[0, 1])
    return _layout(fig, x="time", y="confidence")


def compare_figure(long: pd.DataFrame, x_title: str = "confidence") -> go.Figure:
    """Several densities on one plot (analysis.posterior.compare); plotly reads labels
    as HTML, so each is escaped."""
    fig = go.Figure()
    for lab, grp in long.groupby("label", sort=False):
        fig.add_trace(
            go.Scatter(
                x=grp["x"],
                y=grp["pdf"],
                name=plot_label(lab),
                mode="lines",
                hovertemplate="%{fullData.name}<br>%{x:.3f}<extra></extra>",
            )
        )
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, x=x_title, y="density", height=380)


def forest_figure(rows: pd.DataFrame) -> go.Figure:
    """Forest plot: per experiment (``label``, top to bottom in the rows' order) the
    ``effect`` with its fixed-n interval (``ci_low``..``ci_high``, thick) and always-valid
    interval (``cs_low``..``cs_high``, thin), coloured by ``status``; zero marked. Plotly
    reads labels as HTML: each is escaped."""
    rows = rows.assign(label=rows["label"].map(plot_label))
    fig = go.Figure()
    for status, color in STATUS_COLORS.items():
        sel = rows[rows["status"] == status]
        if sel.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=sel["effect"],
                y=sel["label"],
                mode="markers",
                name=f"{status}",
                marker={"color": color, "size": 11, "symbol": "diamond"},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": sel["cs_high"] - sel["effect"],
                    "arrayminus": sel["effect"] - sel["cs_low"],
                    "thickness": 1,
                    "width": 3,
                    "color": color,
                },
                hovertemplate="%{y}<br>effect %{x:.3f}<extra>sequential interval</extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=sel["effect"],
                y=sel["label"],
                mode="markers",
                showlegend=False,
                marker={"color": color, "size": 1},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": sel["ci_high"] - sel["effect"],
                    "arrayminus": sel["effect"] - sel["ci_low"],
                    "thickness": 5,
                    "width": 0,
                    "color": color,
                },
                hoverinfo="skip",
            )
        )
    fig.add_vline(x=0, line={"color": "#424242", "width": 1})
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=list(rows["label"]))
    return _layout(
        fig,
        x="effect on session outcome (with − without)",
        y="",
        height=max(260, 60 + 42 * len(rows)),
    )


def timeline_figure(tl: pd.DataFrame, hover: list[str]) -> go.Figure:
    """Session outcomes over time; ``hover`` describes each session's learnings."""
    fig = go.Figure()
    for synthetic, name, color in (
        (False, "session", LINE),
        (True, "synthetic session", "#8e24aa"),
    ):
        sel = tl[tl["synthetic"] == synthetic]
        if sel.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=sel["timestamp"],
                y=sel["outcome"],
                mode="markers",
                name=name,
                marker={"color": color, "size": 6, "opacity": 0.75},
                text=[hover[i] for i in sel.index],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    return _layout(fig, x="time", y="session outcome")


def trend_figures(trend: pd.DataFrame) -> tuple[go.Figure, go.Figure]:
    """Cumulative attributed value, and the rolling mean with its interval."""
    cum = go.Figure(
        go.Scatter(
            x=trend["timestamp"],
            y=trend["cumulative"],
            mode="lines",
            line={"color": LINE, "width": 2},
            name="cumulative value",
            line_shape="hv",
        )
    )
    cum.add_hline(y=0, line={"color": "#9e9e9e", "width": 1})
    roll = go.Figure()
    roll.add_trace(
        go.Scatter(
            x=trend["timestamp"],
            y=trend["rolling_high"],
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    roll.add_trace(
        go.Scatter(
            x=trend["timestamp"],
            y=trend["rolling_low"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=BAND,
            name="95% pointwise t-interval",
            hoverinfo="skip",
        )
    )
    roll.add_trace(
        go.Scatter(
            x=trend["timestamp"],
            y=trend["rolling_mean"],
            mode="lines",
            line={"color": LINE, "width": 2},
            name="rolling mean",
        )
    )
    roll.add_trace(
        go.Scatter(
            x=trend["timestamp"],
            y=trend["attributed_value"],
            mode="markers",
            marker={"size": 4, "color": "#9e9e9e"},
            name="per session",
        )
    )
    roll.add_hline(y=0, line={"color": "#9e9e9e", "width": 1})
    return (
        _layout(cum, x="time", y="cumulative attributed value", height=300),
        _layout(roll, x="time", y="attributed value per session", height=300),
    )
