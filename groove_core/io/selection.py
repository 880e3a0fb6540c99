"""Export of a selection of learnings (the rows a dashboard view shows, a search's results)
as the ``GrooveExport`` JSON (docs/architecture.md#serde-json), which ``groove import``
reads back, or as CSV with one row per learning for a spreadsheet.

Both carry each learning's usage stats; the CSV's ``confidence`` is the posterior mean of
its usage stats (:meth:`UsageStats.confidence`), the number every view shows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence

from groove_core.io.export import learnings_document
from groove_core.model.learning import Learning
from groove_core.model.usage import UsageStats

#: Columns of :func:`selection_csv`, in order.
CSV_COLUMNS = (
    "id",
    "tier",
    "description",
    "insight",
    "category",
    "scope",
    "source",
    "source_detail",
    "confidence",
    "times_injected",
    "times_helpful",
    "times_ignored",
    "times_contradicted",
    "created_at",
    "updated_at",
)


def selection_document(
    learnings: Sequence[Learning], usage: Mapping[str, UsageStats] | None = None
) -> dict:
    """The ``GrooveExport`` dict of ``learnings`` in the given order, each with its usage
    stats from ``usage`` (id -> stats; the prior's defaults when missing); no parameters
    and no relations."""
    return {**learnings_document(learnings, usage), "params": [], "relations": []}


def selection_json(
    learnings: Sequence[Learning], usage: Mapping[str, UsageStats] | None = None
) -> str:
    """:func:`selection_document` as JSON text (UTF-8 characters kept, indented)."""
    return json.dumps(selection_document(learnings, usage), ensure_ascii=False, indent=2)


def selection_csv(
    learnings: Sequence[Learning], usage: Mapping[str, UsageStats] | None = None
) -> str:
    """``learnings`` as CSV text (RFC 4180 quoting by the standard library's ``csv``): a
    header of :data:`CSV_COLUMNS`, then one row per learning in the given order;
    timestamps as RFC 3339, ``confidence`` the posterior mean of its usage stats."""
    usage = usage or {}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for lr in learnings:
        stats = usage.get(lr.id, UsageStats())
        writer.writerow(
            {
                **lr.summary(),
                "source_detail": lr.source.describe(),
                "confidence": stats.confidence(),
                "times_injected": stats.times_injected,
                "times_helpful": stats.times_helpful,
                "times_ignored": stats.times_ignored,
                "times_contradicted": stats.times_contradicted,
            }
        )
    return out.getvalue()


__all__ = ["CSV_COLUMNS", "selection_csv", "selection_document", "selection_json"]
