"""Writes of many open-world rows in one transaction, optionally marked synthetic (a
simulation's rows) so they can be removed again by run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from groove_core.model.access import Action, Principal
from groove_core.model.openworld import (
    AnomalyCluster,
    CapabilityGap,
    FailureRecord,
    GapChange,
    OpenWorldEvent,
    PatternFingerprint,
    hash_to_db,
)
from groove_core.model.serde import now, to_unix
from groove_core.store.openworld.clusters import Clusters
from groove_core.store.openworld.rows import (
    PUT_CTX,
    PUT_EV,
    PUT_FAIL,
    PUT_FP,
    PUT_GAP,
    PUT_HIST,
    PUT_SYN,
    event_row,
    fail_row,
    fp_row,
    gap_row,
    hist_row,
)


@dataclass(frozen=True)
class OpenWorldBatch:
    """Rows to write in one transaction with :meth:`OpenWorldStore.write_batch`."""

    fingerprints: Sequence[PatternFingerprint] = ()
    clusters: Sequence[AnomalyCluster] = ()
    gaps: Sequence[CapabilityGap] = ()
    gap_contexts: dict[str, Sequence[int]] | None = None
    gap_history: Sequence[GapChange] = ()
    failures: Sequence[FailureRecord] = ()
    events: Sequence[OpenWorldEvent] = ()


class Batches(Clusters):
    """Batch and synthetic-run methods of :class:`~groove_core.store.openworld.OpenWorldStore`."""

    def write_batch(
        self,
        batch: OpenWorldBatch,
        *,
        synthetic_run: str | None = None,
        actor: Principal | None = None,
    ) -> None:
        """Write many rows of every kind in ONE transaction; with ``synthetic_run`` every
        row is also marked synthetic under that run id (see :meth:`remove_synthetic`)."""
        self._writable()
        params: dict[str, Any] = {}
        blocks: list[str] = []
        marks: list[list] = []
        at = to_unix(now())

        def mark(kind: str, key: Any) -> None:
            if synthetic_run:
                marks.append([kind, str(key), synthetic_run, at])

        puts = (  # param, statement, rows, row of one, synthetic kind, key of one
            (
                "fps",
                PUT_FP,
                batch.fingerprints,
                fp_row,
                "fingerprint",
                lambda f: hash_to_db(f.hash),
            ),
            ("gaps", PUT_GAP, batch.gaps, gap_row, "gap", lambda g: g.id),
            ("history", PUT_HIST, batch.gap_history, hist_row, None, None),
            ("failures", PUT_FAIL, batch.failures, fail_row, "failure", lambda f: f.id),
            ("events", PUT_EV, batch.events, event_row, "event", lambda e: e.id),
        )
        for n, c in enumerate(batch.clusters):
            blocks += self._cluster_blocks(c, params, n)
            mark("cluster", c.id)
        if batch.gap_contexts:
            params["contexts"] = [
                [gid, hash_to_db(h), at] for gid, hs in batch.gap_contexts.items() for h in hs
            ]
            blocks.append(PUT_CTX)
        for param, statement, items, row, kind, key in puts:
            if items:
                params[param] = [row(x) for x in items]
                blocks.append(statement)
                for x in items if kind else ():
                    mark(kind, key(x))
        if marks:
            params["synthetic"] = marks
            blocks.append(PUT_SYN)
        if blocks:
            self._write(
                Action.openworld_observe,
                synthetic_run or "batch",
                blocks,
                params,
                actor,
                detail={"synthetic_run": synthetic_run, "statements": len(blocks)},
            )

    def synthetic_runs(self) -> dict[str, int]:
        """Run id -> number of rows marked synthetic by it."""
        if not self._has("openworld_synthetic"):
            return {}
        res = self.db.run(
            "?[run_id, count(key)] := *openworld_synthetic{run_id, key}", read_only=True
        )
        return {r: int(n) for r, n in res.rows}

    def remove_synthetic(
        self, run_id: str | None = None, *, actor: Principal | None = None
    ) -> dict[str, int]:
        """Remove every row marked synthetic (by one run, or all), with the member rows of
        synthetic clusters, the history and contexts of synthetic gaps, memberships of
        synthetic fingerprints and the marks themselves: one transaction. Returns counts
        by kind."""
        self._writable()
        bind = "run_id = $run, " if run_id else ""
        params: dict[str, Any] = {"run": run_id} if run_id else {}
        res = self.db.run(
            f"?[kind, count(key)] := {bind}*openworld_synthetic{{kind, key, run_id}}",
            params,
            read_only=True,
        )
        counts = {k: int(n) for k, n in res.rows}
        if not counts:
            return {}
        syn = f"syn[kind, key] := {bind}*openworld_synthetic{{kind, key, run_id}}\n"
        blocks = [
            syn + "?[cluster_id, fingerprint_hash] := *cluster_member{cluster_id, "
            "fingerprint_hash}, syn['cluster', cluster_id] "
            ":rm cluster_member {cluster_id, fingerprint_hash}",
            syn + "?[cluster_id, fingerprint_hash] := *cluster_member{cluster_id, "
            "fingerprint_hash}, syn['fingerprint', k], fingerprint_hash = to_int(k) "
            ":rm cluster_member {cluster_id, fingerprint_hash}",
            syn + "?[id] := *anomaly_cluster{id}, syn['cluster', id] :rm anomaly_cluster {id}",
            syn + "?[hash] := *pattern_fingerprint{hash}, syn['fingerprint', k], "
            "hash = to_int(k) :rm pattern_fingerprint {hash}",
            syn + "?[gap_id, change_id] := *gap_history{gap_id, change_id}, syn['gap', gap_id] "
            ":rm gap_history {gap_id, change_id}",
            syn + "?[gap_id, context_hash] := *gap_context{gap_id, context_hash}, "
            "syn['gap', gap_id] :rm gap_context {gap_id, context_hash}",
            syn + "?[gap_id, context_hash] := *gap_context{gap_id, context_hash}, "
            "syn['fingerprint', k], context_hash = to_int(k) "
            ":rm gap_context {gap_id, context_hash}",
            syn + "?[id] := *capability_gap{id}, syn['gap', id] :rm capability_gap {id}",
            syn + "?[id] := *failure_record{id}, syn['failure', id] :rm failure_record {id}",
            syn + "?[id] := *novelty_event{id}, syn['event', id] :rm novelty_event {id}",
            f"?[kind, key] := {bind}*openworld_synthetic{{kind, key, run_id}} "
            ":rm openworld_synthetic {kind, key}",
        ]
        self._write(
            Action.openworld_curate,
            run_id or "synthetic",
            blocks,
            params,
            actor,
            detail={"removed": counts},
        )
        return counts
