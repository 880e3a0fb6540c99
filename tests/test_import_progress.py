"""A rule-file import reports progress through every stage, never silent for more than
2 s, and counts a rule repeated within the import as a repeat, not as already there."""

from __future__ import annotations

import time

from conftest import HashingEmbedder

from groove_core.io import importer
from groove_core.tiers import Groove


class SlowEmbedder(HashingEmbedder):
    """The hashing embedder at about 30 texts/s, as the real model on a busy machine (one
    batch of the import takes longer than 2 s)."""

    def embed(self, texts):
        time.sleep(0.03 * len(texts))
        return super().embed(texts)


def write_rules(folder, n_files=3, per_file=40):
    folder.mkdir()
    for f in range(n_files):
        lines = [f"# Rules {f}", ""]
        lines += [
            f"- Always run check number {f * 1000 + i} before a commit." for i in range(per_file)
        ]
        lines.append("- Never commit secrets to the repository.")  # in every file
        (folder / f"r{f}.mdc").write_text("\n".join(lines) + "\n")


def test_every_stage_reports_at_least_every_two_seconds(tmp_path, monkeypatch):
    write_rules(tmp_path / "rules")
    calls: list[tuple[float, str, int, int]] = []
    with Groove(tmp_path / "home", embedder=SlowEmbedder()) as g:
        tier = g.user
        real = tier.learnings.store_many

        def slow_write(*args, **kwargs):  # a write as long as a large tier's
            time.sleep(3.5)
            return real(*args, **kwargs)

        monkeypatch.setattr(tier.learnings, "store_many", slow_write)
        start = time.monotonic()
        report = importer.import_paths(
            tier,
            [tmp_path / "rules"],
            progress=lambda p: calls.append((time.monotonic(), p.stage, p.done, p.total)),
        )
        end = time.monotonic()
        assert tier.learnings.count() == report.learnings_added == 3 * 40 + 1
    stages = list(dict.fromkeys(s for _, s, _, _ in calls))
    assert stages == ["reading", "checking", "embedding", "writing"]
    times = [start] + [t for t, *_ in calls] + [end]
    assert max(b - a for a, b in zip(times, times[1:], strict=False)) <= 2.0
    writing = [(d, t) for _, s, d, t in calls if s == "writing"]
    assert len(writing) >= 4 and writing[-1] == (1, 1)  # ticks during the write, then done
    embedded = [d for _, s, d, _ in calls if s == "embedding"]
    assert embedded == sorted(embedded) and embedded[-1] == report.learnings_added


def test_a_rule_repeated_within_an_import_is_a_repeat_not_already_there(tmp_path):
    write_rules(tmp_path / "rules", n_files=3, per_file=2)
    with Groove(tmp_path / "home", embedder=HashingEmbedder()) as g:
        first = importer.import_paths(g.user, [tmp_path / "rules"])
        assert (first.learnings_added, first.learnings_skipped, first.learnings_duplicate) == (
            3 * 2 + 1,
            0,
            2,
        )
        again = importer.import_paths(g.user, [tmp_path / "rules"])  # the same files again:
        # each distinct rule is already there once; its repeats stay repeats
        assert (again.learnings_added, again.learnings_skipped, again.learnings_duplicate) == (
            0,
            7,
            2,
        )
        assert g.user.learnings.count() == 7
        assert first.to_json()["learnings_duplicate"] == 2
