"""Whether a tier holds any rows of a kind of data, one key read each (``:limit 1``), so
a page can open on a tier that has what it shows."""

from __future__ import annotations

from groove_core.errors import ValidationError
from groove_core.store.engine import Engine

#: Kind of data -> (relation, a key column) of the data contract.
KINDS = {
    "learnings": ("learning", "id"),
    "outcomes": ("outcome_event", "learning_id"),
    "attribution": ("attribution", "learning_id"),
    "experiments": ("ablation_experiment", "learning_id"),
    "params": ("adaptive_params", "param_name"),
    "fingerprints": ("pattern_fingerprint", "hash"),
    "gaps": ("capability_gap", "id"),
    "events": ("novelty_event", "id"),
}


def holds(db: Engine, kind: str) -> bool:
    """True when the tier of ``db`` holds at least one row of ``kind`` (a key of
    :data:`KINDS`).

    Raises:
        ValidationError: an unknown kind. DatabaseError: the tier cannot be read.
    """
    if kind not in KINDS:
        raise ValidationError(f"unknown kind of data {kind!r} (use {', '.join(KINDS)})")
    relation, key = KINDS[kind]
    res = db.run(f"?[k] := *{relation}{{{key}: k}} :limit 1", read_only=True)
    return bool(res.rows)


__all__ = ["KINDS", "holds"]
