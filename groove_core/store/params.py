"""System parameters of one tier (vibes-groove's ``ParamStore``, relation
``adaptive_params``; docs/architecture.md#relations-v1)."""

from __future__ import annotations

from groove_core.model.access import Action, Principal, os_principal
from groove_core.model.params import AdaptiveParam, SystemParam
from groove_core.model.serde import from_unix, to_unix
from groove_core.store.engine import Engine
from groove_core.store.writer import TierWriter, target

PARAM_COLS = "param_name, value, uncertainty, observations, prior_alpha, prior_beta, updated_at"
PUT_PARAMS = (
    f"?[{PARAM_COLS}] <- $params :put adaptive_params {{param_name => value, uncertainty, "
    "observations, prior_alpha, prior_beta, updated_at}"
)


def param_to_row(p: SystemParam) -> list:
    """Row for ``:put adaptive_params`` in column order."""
    return [
        p.name,
        p.param.value,
        p.param.uncertainty,
        p.param.observations,
        p.param.prior_alpha,
        p.param.prior_beta,
        to_unix(p.updated_at),
    ]


class ParamStore:
    """Get, store and list :class:`SystemParam` rows.

    Args:
        db: the tier's open engine. writer: its :class:`TierWriter` (default: acting as
            the OS account).
    """

    def __init__(self, db: Engine, writer: TierWriter | None = None):
        self.db = db
        self.writer = writer or TierWriter(db, os_principal())

    def get_param(self, name: str) -> SystemParam | None:
        """The parameter called ``name``, or None."""
        res = self.db.run(
            f"?[{PARAM_COLS}] := param_name = $name, *adaptive_params{{{PARAM_COLS}}}",
            {"name": name},
            read_only=True,
        )
        return _param(res.rows[0]) if res.rows else None

    def store_param(self, param: SystemParam, *, actor: Principal | None = None) -> None:
        """Insert or replace a parameter."""
        self.store_params([param], actor=actor)

    def store_params(self, params: list[SystemParam], *, actor: Principal | None = None) -> None:
        """Insert or replace several parameters in one transaction.

        Raises: PermissionDeniedError (a curator's job in an enterprise tier)."""
        if not params:
            return
        rows = [param_to_row(p) for p in params]
        self.writer.write(
            Action.param_write,
            target([p.name for p in params], "params"),
            [PUT_PARAMS],
            {"params": rows},
            actor=actor,
            after=rows,
        )

    def all_params(self) -> list[SystemParam]:
        """Every parameter, by name."""
        res = self.db.run(
            f"?[{PARAM_COLS}] := *adaptive_params{{{PARAM_COLS}}} :order param_name", read_only=True
        )
        return [_param(r) for r in res.rows]


def _param(row: list) -> SystemParam:
    name, value, unc, obs, a, b, at = row
    return SystemParam(name, AdaptiveParam(value, unc, obs, a, b), from_unix(at))
