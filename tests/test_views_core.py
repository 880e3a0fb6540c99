"""What the dashboard's views stand on in groove_core: tiers another process configures,
data and learnings versions, pages of the newest rows read from an index range, the
export of a selection, and a promoted copy's confidence."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from conftest import HashingEmbedder, make_learning

from groove_core.io.export import import_file
from groove_core.io.selection import CSV_COLUMNS, selection_csv, selection_json
from groove_core.model.usage import UsageStats
from groove_core.store import listing as lmod
from groove_core.tiers import Groove


@pytest.fixture
def g(tmp_path):
    with Groove(tmp_path / "home", embedder=HashingEmbedder(), project=tmp_path) as g:
        yield g


def test_a_tier_another_process_configures_is_known_after_refresh(g, tmp_path):
    tier = f"project:{tmp_path / 'other'}"
    assert not g.refresh()  # nothing changed on disk
    with Groove(g.home, embedder=HashingEmbedder()) as other:
        other.tier(tier).learnings.store_many([make_learning()])
    assert tier not in [t.name for t in g.available()[0]]
    assert g.refresh()
    assert tier in [t.name for t in g.available()[0]]
    assert g.tier(tier, create=False).learnings.count() == 1


def test_learnings_version_moves_with_learning_writes_not_with_outcomes(g):
    t = g.user
    lr = make_learning()
    t.learnings.store_many([lr])
    first = t.learnings_version()
    assert first == (t.data_version, t.data_version)
    t.learnings.record_outcome(lr.id, "helpful", session_id="s-1")
    t.params.store_params([])  # writes nothing: no version change
    after_outcome = t.learnings_version(first)
    assert after_outcome[0] > first[0] and after_outcome[1] == first[1]
    t.learnings.update(lr.id, category="tool_usage")
    after_edit = t.learnings_version(after_outcome)
    assert after_edit[1] == after_edit[0] > after_outcome[0]
    assert t.learnings_version(after_edit) == after_edit  # nothing since


@pytest.mark.parametrize("sort", ["recency", "created"])
def test_pages_of_the_newest_rows_match_a_full_sort(g, sort):
    """Ties (many rows with one timestamp), a row dated in the future and one before
    1970 are ordered as sorting every row would: by time, newest first, then by id."""
    base = datetime(2025, 1, 1, tzinfo=UTC)
    times = [base + timedelta(seconds=i // 7) for i in range(300)]
    times += [datetime(2200, 1, 1, tzinfo=UTC), datetime(1960, 1, 1, tzinfo=UTC)]
    rows = [
        replace(make_learning(f"rule {i}", f"insight {i}"), created_at=t, updated_at=t)
        for i, t in enumerate(times)
    ]
    g.user.learnings.store_many(rows)
    col = "updated_at" if sort == "recency" else "created_at"
    expected = [lr.id for lr in sorted(rows, key=lambda lr: (-getattr(lr, col).timestamp(), lr.id))]
    store = g.user.learnings
    for offset, limit in [(0, 50), (50, 50), (290, 50), (0, 302), (250, 100)]:
        got = [lr.id for lr in store.page(sort=sort, limit=limit, offset=offset)]
        assert got == expected[offset : offset + limit], (offset, limit)


def test_the_newest_rows_are_read_from_an_index_range(g, monkeypatch):
    """The first pages do not sort the whole index (the full sort is never run)."""
    g.user.learnings.store_many([make_learning(f"rule {i}", "x") for i in range(60)])
    monkeypatch.setattr(lmod, "NEWEST_MAX", 10_000)
    scripts = []
    run = g.user.db.run
    monkeypatch.setattr(g.user.db, "run", lambda s, *a, **k: scripts.append(s) or run(s, *a, **k))
    g.user.learnings.page(limit=50)
    assert not [s for s in scripts if ":order -updated_at" in s]


def test_a_selection_exports_as_groove_json_and_csv(g, tmp_path):
    learnings = [make_learning("Use tabs", "Indent, with tabs"), make_learning("Use ruff", "")]
    g.user.learnings.store_many(learnings)
    stats = {learnings[0].id: UsageStats(3, 2, 1, 0, None, 3.0, 1.1)}
    shown = g.user.learnings.get_many([lr.id for lr in learnings])

    path = tmp_path / "shown.json"
    path.write_text(selection_json(shown, stats))
    doc = json.loads(path.read_text())
    assert [d["id"] for d in doc["learnings"]] == [lr.id for lr in learnings]
    with Groove(tmp_path / "other", embedder=HashingEmbedder(), project=tmp_path) as other:
        assert import_file(other.user, path).learnings_imported == 2
        assert other.user.learnings.usage(learnings[0].id).times_helpful == 2

    table = list(csv.DictReader(io.StringIO(selection_csv(shown, stats))))
    assert list(table[0]) == list(CSV_COLUMNS)
    assert table[0]["insight"] == "Indent, with tabs" and table[0]["tier"] == "user"
    assert float(table[0]["confidence"]) == pytest.approx(3.0 / 4.1)
    assert float(table[1]["confidence"]) == 0.5 and table[1]["times_injected"] == "0"


def test_a_promoted_copy_starts_without_evidence(g, tmp_path):
    lr = make_learning()
    g.user.learnings.store_many([lr])
    for session in ("s-1", "s-2", "s-3"):
        g.user.learnings.record_outcome(lr.id, "helpful", session_id=session)
    copy = g.promote(lr.id, f"project:{tmp_path / 'app'}").learnings[0]
    stored = g.tier(copy.tier).learnings
    assert stored.get(copy.id).confidence == stored.usage(copy.id).confidence() == 0.5
    assert g.user.learnings.get(lr.id).confidence == pytest.approx(4 / 5)


def test_holds_tells_which_kinds_of_data_a_tier_has(g):
    assert not g.user.holds("learnings")
    lr = make_learning()
    g.user.learnings.store_many([lr])
    g.user.learnings.record_outcome(lr.id, "ignored", session_id="s-1")
    assert g.user.holds("learnings") and g.user.holds("outcomes")
    assert not g.user.holds("experiments") and not g.user.holds("fingerprints")


def test_the_pickers_offer_every_sort_and_search_mode_the_store_knows():
    from dashboard.components.learning_views import MODE_LABELS, SORT_LABELS
    from groove_core.store.listing import DEFAULT_SORT, SORTS
    from groove_core.store.modes import DEFAULT_MODE, MODES

    assert list(SORT_LABELS) == list(SORTS) and DEFAULT_SORT in SORTS
    assert set(MODE_LABELS) == set(MODES) and DEFAULT_MODE in MODES
