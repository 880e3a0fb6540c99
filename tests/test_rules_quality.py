"""Imported learnings are rules: precision and recall of rule-file import against labels
we wrote ourselves, kept in ``tests/data`` as (corpus file, line, label, reason) - no corpus
text is copied.

- **Held-out files** (:data:`HELD_OUT`): 12 corpus files drawn with ``random.Random(12)``
  from those no other test names, labelled from their source before the markdown-it parser
  was written (``rule_labels_heldout.csv``). The first line of every real rule is listed
  with label 1, so a learning that starts on any other line is not a rule. Precision:
  learnings starting on a label-1 line / all learnings of those files; recall: label-1
  lines inside some learning's ``line..end_line``.
- **Random sample** (``rule_labels.csv``): 200 learnings drawn with ``random.Random(12)``
  from the previous parser's output and 200 from this parser's output, over the other
  corpus files. Precision over this parser's learnings that start on a line of the
  ``new`` draw; recall over the real rules of both draws.
"""

from __future__ import annotations

import csv
import functools
import re
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import CORPUS, HashingEmbedder

from groove_core.io.importer import import_paths
from groove_core.io.rules import parse_file
from groove_core.store.engine import Engine
from groove_core.tiers import Tier

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="rule corpus not available")

DATA = Path(__file__).parent / "data"
CORPUS_ROOT = CORPUS.parent.parent  # labels name files relative to shared/corpus

#: held-out rule files (corpus-relative); no other test reads them by name
HELD_OUT = [
    "cursorrules/rules/android-jetpack-compose-cursorrules-prompt-file.mdc",
    "cursorrules/rules/elixir-phoenix-docker-setup-cursorrules-prompt-fil.mdc",
    "cursorrules/rules/javascript-chrome-apis-cursorrules-prompt-file.mdc",
    "cursorrules/rules/jest-unit-testing-cursorrules-prompt-file.mdc",
    "cursorrules/rules/nextjs-app-router-cursorrules-prompt-file.mdc",
    "cursorrules/rules/nextjs-supabase-todo-app-cursorrules-prompt-file.mdc",
    "cursorrules/rules/nextjs-tanstack-query-cursorrules-prompt-file.mdc",
    "cursorrules/rules/py-fast-api.mdc",
    "cursorrules/rules/pyspark-etl-best-practices-cursorrules-prompt-file.mdc",
    "cursorrules/rules/python-llm-ml-workflow-cursorrules-prompt-file.mdc",
    "cursorrules/rules/semiotic-react-dataviz-cursorrules-prompt-file.mdc",
    "cursorrules/rules/snowflake-cortex-ai-cursorrules-prompt-file.mdc",
]
NEGATION = re.compile(r"\b(never|not|don'?t|do not|avoid|no)\b", re.IGNORECASE)


def _labels(name: str) -> list[dict]:
    with (DATA / name).open(newline="") as fh:
        return [
            {**row, "line": int(row["line"]), "label": int(row["label"])}
            for row in csv.DictReader(fh)
        ]


@functools.cache
def _spans(path: str) -> tuple[tuple[int, int], ...]:
    """(line, end_line) of every learning parsed from a corpus file."""
    return tuple((r.line, r.end_line) for r in parse_file(CORPUS_ROOT / path).rules)


def _covered(line: int, spans) -> bool:
    return any(start <= line <= end for start, end in spans)


@pytest.fixture(scope="module")
def held_out_import(tmp_path_factory):
    """The held-out files imported into a fresh tier; per file, (line, end_line, insight)
    of each learning as read back from the store."""
    tier = Tier("user", Engine("user", "mem"), HashingEmbedder())
    report = import_paths(tier, [CORPUS_ROOT / p for p in HELD_OUT])
    assert not report.errors and len(report.files) == len(HELD_OUT)
    found = defaultdict(list)
    for learning in tier.learnings.iter_all():
        source = Path(learning.source.data["source_file"])
        pattern = learning.content.pattern
        found[source.relative_to(CORPUS_ROOT.resolve()).as_posix()].append(
            (pattern["line"], pattern["end_line"], learning.insight)
        )
    return found


def test_the_held_out_files_are_the_ones_labelled_and_no_other_test_names_them():
    assert sorted({row["path"] for row in _labels("rule_labels_heldout.csv")}) == HELD_OUT
    others = [p for p in Path(__file__).parent.glob("test_*.py") if p.name != Path(__file__).name]
    text = "\n".join(p.read_text(encoding="utf-8") for p in others)
    assert not [p for p in HELD_OUT if Path(p).name in text]


def test_held_out_precision_and_recall(held_out_import):
    rules = defaultdict(set)
    for row in _labels("rule_labels_heldout.csv"):
        if row["label"] == 1:
            rules[row["path"]].add(row["line"])
    learnings = [(p, start) for p in HELD_OUT for start, _, _ in held_out_import[p]]
    precision = sum(start in rules[p] for p, start in learnings) / len(learnings)
    real = [(p, line) for p in HELD_OUT for line in rules[p]]
    spans = {p: [(a, b) for a, b, _ in held_out_import[p]] for p in HELD_OUT}
    recall = sum(_covered(line, spans[p]) for p, line in real) / len(real)
    print(f"\nheld out: precision {precision:.3f} of {len(learnings)}, recall {recall:.3f}")
    assert len(real) > 300
    assert precision >= 0.9
    assert recall >= 0.95


def test_held_out_negations_are_kept(held_out_import):
    """A real rule whose source line says never / don't / avoid ... keeps those words in
    the learnings read from that line."""
    checked = 0
    for row in _labels("rule_labels_heldout.csv"):
        if row["label"] != 1:
            continue
        source = (CORPUS_ROOT / row["path"]).read_text(encoding="utf-8").split("\n")
        words = {w.lower() for w in NEGATION.findall(source[row["line"] - 1])}
        if not words:
            continue
        insights = " ".join(i for a, b, i in held_out_import[row["path"]] if a <= row["line"] <= b)
        assert all(re.search(rf"\b{w}\b", insights, re.I) for w in words), row
        checked += 1
    assert checked >= 30


def test_labelled_sample_precision_and_recall():
    rows = _labels("rule_labels.csv")
    assert {r["sample"] for r in rows} == {"old", "new"}
    assert sum(r["sample"] == "new" for r in rows) == 200
    assert not set(HELD_OUT) & {r["path"] for r in rows}
    new = {(r["path"], r["line"]): r["label"] for r in rows if r["sample"] == "new"}
    starts = [
        new[(path, start)]
        for path in {p for p, _ in new}
        for start, _ in _spans(path)
        if (path, start) in new
    ]
    real = {(r["path"], r["line"]) for r in rows if r["label"] == 1}
    recall = sum(_covered(line, _spans(path)) for path, line in real) / len(real)
    precision = sum(starts) / len(starts)
    print(f"\nsample: precision {precision:.3f} of {len(starts)}, recall {recall:.3f}")
    assert len(starts) >= 190
    assert precision >= 0.9
    assert recall >= 0.95
