"""Widgets of the Tiers page: what groove_core reports about each open tier (engine,
location, schema version and migrations, counts, the viewer's role) as a table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from groove_core.model.access import Principal
from groove_core.store import migrations
from groove_core.store.migrations import MigrationStatus
from groove_core.tiers import Tier


@dataclass(frozen=True)
class TierInfo:
    """What the Tiers page shows of one tier (read by :func:`tier_info`)."""

    name: str
    kind: str
    engine: str
    location: str
    schema_version: int
    migrations: list[MigrationStatus]
    learnings: int
    waiting: int
    audit_entries: int
    role: str

    @property
    def pending(self) -> list[int]:
        return [m.version for m in self.migrations if m.applied_at is None]

    @property
    def applied(self) -> list[int]:
        return [m.version for m in self.migrations if m.applied_at is not None]


def tier_info(tier: Tier, me: Principal) -> TierInfo:
    """Read one tier's facts. Raises GrooveError when the tier cannot be read."""
    head = tier.audit.head()
    role = tier.role(me)
    return TierInfo(
        name=tier.name,
        kind=tier.kind,
        engine=tier.db.kind,
        location=tier.db.location,
        schema_version=migrations.current_version(tier.db),
        migrations=migrations.status(tier.db),
        learnings=tier.search.count(),  # the derived document store: 1 ms, not a scan
        waiting=tier.proposals.count_waiting(),
        audit_entries=head[0] if head else 0,
        role=role.name if role else "none",
    )


def _versions(vs: list[int]) -> str:
    return ", ".join(map(str, vs)) if vs else "none"


def tiers_frame(infos: Sequence[TierInfo]) -> pd.DataFrame:
    """One row per tier."""
    rows = [
        {
            "tier": i.name,
            "engine": i.engine,
            "location": i.location,
            "schema": i.schema_version,
            "applied": _versions(i.applied),
            "pending": _versions(i.pending),
            "learnings": i.learnings,
            "waiting": i.waiting,
            "audit": i.audit_entries,
            "role": i.role,
        }
        for i in infos
    ]
    return pd.DataFrame(rows)


TIERS_CONFIG = {
    "schema": st.column_config.NumberColumn("Schema version"),
    "applied": st.column_config.TextColumn("Applied migrations"),
    "pending": st.column_config.TextColumn("Pending migrations"),
    "waiting": st.column_config.NumberColumn("Proposals waiting"),
    "audit": st.column_config.NumberColumn("Audit entries"),
    "role": st.column_config.TextColumn("Your role"),
}


def migrations_table(info: TierInfo) -> None:
    """Every known or recorded migration of a tier: version, description, when applied."""
    rows = [
        {
            "version": m.version,
            "description": m.description,
            "applied": datetime.fromtimestamp(m.applied_at, UTC).replace(tzinfo=None)
            if m.applied_at is not None
            else None,
            "shared contract": m.contract,
        }
        for m in info.migrations
    ]
    st.dataframe(
        pd.DataFrame(rows),
        key=f"mig_{info.name}",
        hide_index=True,
        column_config={
            "applied": st.column_config.DatetimeColumn("Applied (UTC)", format="YYYY-MM-DD HH:mm")
        },
    )


__all__ = ["TIERS_CONFIG", "TierInfo", "migrations_table", "tier_info", "tiers_frame"]
