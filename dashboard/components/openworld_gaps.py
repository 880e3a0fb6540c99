"""Capability-gap widgets: the gap table, the suggested-solutions editor (rows <->
:class:`SuggestedSolution`) and the history list."""

from __future__ import annotations

import pandas as pd

from dashboard.components.text import MISSING, short
from groove_core.errors import ValidationError
from groove_core.model.learning import LearningCategory
from groove_core.model.openworld import (
    SolutionAction,
    SolutionSource,
    SuggestedSolution,
)

ACTIONS = {
    "CreateLearning": "create learning",
    "ModifyLearning": "modify learning",
    "DisableLearning": "disable learning",
    "AdjustStrategy": "adjust strategy",
    "RequestHumanInput": "ask a person",
}
_BY_LABEL = {v: k for k, v in ACTIONS.items()}
SOLUTION_COLUMNS = ["action", "text", "category", "learning id", "source", "confidence", "applied"]


def gap_title(gap, summaries: dict[int, str]) -> str:
    """What a gap is about: its context pattern, or for a ``context:<hash>`` pattern (as
    vibes-groove names gaps) the summary of that context when it is a known fingerprint."""
    h = gap.context_hash
    return summaries.get(h, gap.context_pattern) if h is not None else gap.context_pattern


def gap_label(gap, summaries: dict[int, str]) -> str:
    return (
        f"[{gap.severity.label}] {short(gap_title(gap, summaries), 60)} · {gap.status.label} "
        f"· {gap.id[-8:]}"
    )


def gap_table(gaps, clusters_of: dict[str, str], summaries: dict[int, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "severity": g.severity.label,
                "status": g.status.label,
                "category": g.category.label,
                "context": gap_title(g, summaries),
                "failures": g.failure_count,
                "cluster": clusters_of.get(g.id, MISSING),
                "first seen": g.first_seen,
                "last seen": g.last_seen,
                "solutions": len(g.suggested_solutions),
            }
            for g in gaps
        ]
    )


def solutions_frame(solutions) -> pd.DataFrame:
    rows = []
    for s in solutions:
        d = s.action.data
        cat = d.get("category")
        rows.append(
            {
                "action": ACTIONS[s.action.kind],
                "text": s.action.text,
                "category": LearningCategory.parse(cat).value if cat else None,
                "learning id": d.get("id"),
                "source": s.source.value,
                "confidence": s.confidence,
                "applied": s.applied,
            }
        )
    return pd.DataFrame(rows, columns=SOLUTION_COLUMNS)


def _blank(v) -> bool:
    return (
        v is None or (isinstance(v, float) and pd.isna(v)) or (isinstance(v, str) and not v.strip())
    )


def solutions_from_frame(frame: pd.DataFrame, old=()) -> list[SuggestedSolution]:
    """The edited rows as solutions. Raises ValidationError naming the row at fault.
    An ``AdjustStrategy`` row keeps the weight changes of the solution it edits."""
    out = []
    old = list(old)
    for n, row in enumerate(frame.to_dict("records"), start=1):
        if all(_blank(row.get(c)) for c in ("action", "text", "learning id")):
            continue
        try:
            kind = _BY_LABEL.get(row.get("action") or "", row.get("action"))
            text = "" if _blank(row.get("text")) else str(row["text"]).strip()
            blank = _blank(row.get("category"))
            cat = LearningCategory.CODE_PATTERN.value if blank else row["category"]
            lid = None if _blank(row.get("learning id")) else str(row["learning id"]).strip()
            if kind == "CreateLearning":
                action = SolutionAction.create_learning(text, cat)
            elif kind == "ModifyLearning":
                action = SolutionAction.modify_learning(lid or "", text)
            elif kind == "DisableLearning":
                action = SolutionAction.disable_learning(lid or "")
            elif kind == "AdjustStrategy":
                prev = (
                    next(
                        (
                            s.action.data.get("change")
                            for s in old
                            if s.action.kind == "AdjustStrategy"
                        ),
                        None,
                    )
                    or {}
                )
                action = SolutionAction.adjust_strategy(
                    cat,
                    prev.get("weight_delta", 0.0),
                    prev.get("exploration_delta", 0.0),
                    prev.get("variant"),
                )
            elif kind == "RequestHumanInput":
                action = SolutionAction.request_human_input(text)
            else:
                raise ValidationError(f"unknown action {row.get('action')!r}")
            if kind in ("CreateLearning", "ModifyLearning", "RequestHumanInput") and not text:
                raise ValidationError("the text is empty")
            conf = 0.5 if _blank(row.get("confidence")) else float(row["confidence"])
            src = "user_suggestion" if _blank(row.get("source")) else row["source"]
            out.append(
                SuggestedSolution(
                    action, SolutionSource.parse(src), conf, bool(row.get("applied") or False)
                )
            )
        except (ValidationError, ValueError, TypeError) as err:
            raise ValidationError(f"solution row {n}: {err}") from None
    return out


def history_frame(changes) -> pd.DataFrame:
    rows = []
    for c in reversed(changes):
        if c.action == "status":
            what = f"{c.old_status.label} → {c.new_status.label}"
        elif c.action == "created":
            what = f"created as {c.new_status.label}" if c.new_status else "created"
        else:
            what = "solutions edited"
        rows.append({"when": c.at, "who": c.who, "change": what, "note": c.note})
    return pd.DataFrame(rows, columns=["when", "who", "change", "note"])
