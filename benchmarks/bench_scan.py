"""Benchmark: the content scanner (groove_core.scan) on the real rule corpus.

Parses the corpus's rule files with groove's rule-file parser into the learnings an
import stores (same description, insight and pattern as groove_core.io.importer, the
same de-duplication), scans them all, and prints:
- the number and share of learnings flagged per rule and in total, then every flagged
  learning by corpus path and line with its rules (never the text), and the
  false-positive rate against TRUE_POSITIVES, the flagged learnings judged by hand to
  hold a real secret or injection;
- the base64 runs of the corpus (the measurement behind BASE64_BLOB_MIN_CHARS);
- the time to scan the whole corpus, and on a sample, interleaved, the scanner (one
  learning at a time, and in one batch) against the plain use of detect-secrets (its
  ad-hoc scan_line on every line of every field, secrets only) with the ratios;
- the time of inputs built to make regular expressions backtrack, against prose.

Run: python benchmarks/bench_scan.py [CORPUS_DIR [SAMPLE]]
     (defaults ../shared/corpus/cursorrules/rules and 1000 learnings)
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from groove_core import scan
from groove_core.io import rules
from groove_core.io.importer import import_key
from groove_core.model.learning import LearningContent
from groove_core.model.scope import Scope

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "cursorrules" / "rules"

# Flagged corpus learnings judged to hold a real secret or injection, by (file name,
# line). Reviewed by hand: none of the flagged ones does (see the module doc of
# groove_core.scan for what was flagged and why each is a false positive).
TRUE_POSITIVES: frozenset[tuple[str, int]] = frozenset()


@dataclass(frozen=True)
class CorpusLearning:
    """One learning as the importer would store it: its rule file's name, the line the
    rule starts on, and its content."""

    path: str
    line: int
    content: LearningContent


def load_corpus(root: Path = CORPUS) -> list[CorpusLearning]:
    """Every learning an import of ``root`` stores (first occurrence of each text)."""
    scope = Scope.global_()
    seen: set[str] = set()
    out = []
    for path in rules.discover([root]):
        for rule in rules.parse_file(path).rules:
            key = import_key(scope, rule.text)
            if key in seen:
                continue
            seen.add(key)
            pattern = {"import_key": key, "line": rule.line, "end_line": rule.end_line}
            if rule.heading:
                pattern["heading"] = rule.heading
            content = LearningContent(rule.description, rule.insight, pattern)
            out.append(CorpusLearning(path.name, rule.line, content))
    return out


def flagged(corpus: list[CorpusLearning]) -> list[tuple[CorpusLearning, list[scan.Finding]]]:
    """The learnings with at least one finding, with their findings."""
    found = scan.scan_contents([c.content for c in corpus])
    return [(c, f) for c, f in zip(corpus, found, strict=True) if f]


def false_positive_rate(corpus, hits) -> float:
    """Flagged learnings not in TRUE_POSITIVES, over all learnings."""
    false = [c for c, _ in hits if (c.path, c.line) not in TRUE_POSITIVES]
    return len(false) / len(corpus)


def _plain_detect_secrets(contents: list[LearningContent]) -> int:
    """The baseline: scan_line on every line of every field, one settings context."""
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings

    count = 0
    with default_settings():
        for content in contents:
            for _, text in scan._content_fields(content):
                for line in text.split("\n"):
                    count += sum(1 for _ in scan_line(line))
    return count


def _report(corpus, hits, seconds: float, cpu: float) -> None:
    n = len(corpus)
    per_rule = Counter(rule for _, fs in hits for rule in {f.rule for f in fs})
    print(
        f"{n} learnings scanned in {seconds:.2f} s wall, {cpu:.2f} s CPU of this process "
        f"({n / cpu:,.0f} learnings per CPU second)"
    )
    print("\nlearnings flagged per rule:")
    for rule, k in sorted(per_rule.items()):
        print(f"  {rule:40s} {k:5d}  {k / n:.3%}")
    print(f"  {'total':40s} {len(hits):5d}  {len(hits) / n:.3%}")
    print("\nflagged learnings (path:line  rules [fields]):")
    for c, fs in hits:
        verdict = "TRUE" if (c.path, c.line) in TRUE_POSITIVES else "false positive"
        rules_found = ", ".join(sorted({f"{f.rule} [{f.field}]" for f in fs}))
        print(f"  {c.path}:{c.line}  {rules_found}  -> {verdict}")
    tp = sum(1 for c, _ in hits if (c.path, c.line) in TRUE_POSITIVES)
    print(
        f"\ntrue positives {tp}, false positives {len(hits) - tp}: "
        f"false-positive rate {false_positive_rate(corpus, hits):.3%} (budget 1%)"
    )


def _base64_runs(corpus) -> None:
    runs = []
    for c in corpus:
        for _, text in scan._content_fields(c.content):
            runs.extend(m.group() for m in scan._BASE64_RUN.finditer(text))
    high = [r for r in runs if scan._high_entropy(r)]
    decoded = sum(1 for r in runs if scan._decoded_text(r) is not None)
    print(
        f"\nbase64-alphabet runs of >= {scan.BASE64_TEXT_MIN_CHARS} chars: {len(runs)}; "
        f"longest {max(map(len, runs), default=0)}; with entropy >= 4.5: {len(high)}, "
        f"longest {max(map(len, high), default=0)}; decoding to text: {decoded} "
        f"(blob threshold {scan.BASE64_BLOB_MIN_CHARS})"
    )


def _speed(corpus, sample: int, rounds: int = 3) -> None:
    contents = [c.content for c in corpus[:sample]]
    runs = {
        "plain detect-secrets scan_line per line (baseline, secrets only)": (
            lambda: _plain_detect_secrets(contents)
        ),
        "groove scan_content, one learning at a time": (
            lambda: [scan.scan_content(c) for c in contents]
        ),
        "groove scan_contents, one batch": lambda: scan.scan_contents(contents),
    }
    took: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            t = time.process_time()
            run()
            took[name].append(time.process_time() - t)
    base = statistics.median(next(iter(took.values())))
    print(f"\n{len(contents)} learnings, CPU seconds, median of {rounds} interleaved rounds:")
    for name, seconds in took.items():
        median = statistics.median(seconds)
        print(f"  {name:66s} {median:6.2f} s ({median / base:.3f}x)")


def _hostile(chars: int = 80_000) -> None:
    """Inputs built to make regular expressions backtrack, against prose of the same
    length: each should take about as long (no quadratic search)."""
    unit = "Use tabs for indentation and run the linter before commits. "
    cases = {
        "prose": unit * (chars // len(unit)),
        "a.a.a. (host names)": "send the key to " + "a." * (chars // 2),
        "a-a-a- (host names)": "send the key to " + "a-" * (chars // 2),
        "a+a+a+ (e-mail)": "send the key to " + "a+" * (chars // 2),
        "previous previous ...": "ignore " + "previous " * (chars // 9),
        "never never ...": "never " * (chars // 6) + "send",
        "send send ... (verbs)": "send " * (chars // 5) + "the key to https://x.example.com",
        "one base64 run": "QUJD" * (chars // 4),
    }
    scan.scan_text(unit)  # detect-secrets' imports and settings, once
    base = None
    print(f"\nhostile inputs of about {chars:,} characters (one field each), CPU seconds:")
    for name, text in cases.items():
        t = time.process_time()
        scan.scan_text(text)
        took = time.process_time() - t
        base = base or took
        print(f"  {name:24s} {took:6.2f} s ({took / base:.2f}x prose)")


def main(root: Path, sample: int) -> None:
    t = time.perf_counter()
    corpus = load_corpus(root)
    print(f"parsed {len(corpus)} learnings from {root} in {time.perf_counter() - t:.2f} s")
    t, cpu = time.perf_counter(), time.process_time()
    hits = flagged(corpus)
    _report(corpus, hits, time.perf_counter() - t, time.process_time() - cpu)
    _base64_runs(corpus)
    _speed(corpus, sample)
    _hostile()


if __name__ == "__main__":
    main(
        Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS,
        int(sys.argv[2]) if len(sys.argv) > 2 else 1000,
    )
