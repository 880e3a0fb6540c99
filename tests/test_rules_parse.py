"""Tests for groove_core.io.rules: rule files -> candidate learnings (no database)."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import pytest
from conftest import CORPUS, needs_corpus

from groove_core.errors import ImportFileError
from groove_core.io.rules import (
    CATEGORIES,
    MAX_FILE_BYTES,
    RULE_FILE_NAMES,
    ParsedRule,
    RuleFile,
    categorize,
    discover,
    find_in_project,
    parse_file,
    parse_text,
)

# list marker, checkbox, blockquote and `//` prefixes, as the parser strips them
_PREFIX = re.compile(r"^\s*(?:>\s*)*(?:(?:[-*+]|\d{1,9}[.)])\s+)?(?:\[[ xX]\]\s+)?(?://+\s*)?")


def _corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.mdc"))


@functools.cache
def _parsed(path: Path) -> RuleFile:
    return parse_file(path)


def _texts(rule_file: RuleFile) -> list[str]:
    return [r.text for r in rule_file.rules]


# ------------------------------------------------------------------------------ corpus


@needs_corpus
def test_whole_corpus_parses_with_plausible_rules():
    files = _corpus_files()
    assert len(files) >= 250
    total = 0
    for path in files:
        parsed = _parsed(path)
        assert parsed.path == str(path)
        assert set(parsed.front_matter) >= {"description", "globs", "alwaysApply"}
        assert len(parsed.content_hash) == 64
        for rule in parsed.rules:
            assert isinstance(rule, ParsedRule)
            assert rule.category in CATEGORIES
            assert rule.text == " ".join(rule.text.split())
            assert len(rule.text.split()) >= 1
            assert 0 < len(rule.description) <= 120
            assert "\n" not in rule.description
            assert rule.insight.startswith(rule.text)
            assert not rule.text.startswith("```")
        assert len({r.text.casefold() for r in parsed.rules}) == len(parsed.rules)
        total += len(parsed.rules)
    print(f"\n{total} rules parsed from {len(files)} corpus files")
    assert 3000 < total < 20000


@needs_corpus
def test_anti_overengineering_rules():
    parsed = parse_file(CORPUS / "anti-overengineering.mdc")
    texts = _texts(parsed)
    assert any("only change what was asked" in t.lower() for t in texts)
    assert any(t.lower().startswith("do not modify unrequested code") for t in texts)
    assert parsed.front_matter["alwaysApply"] is False
    assert parsed.front_matter["globs"] == ["**/*"]
    assert all(r.heading == "Anti-Over-Engineering" for r in parsed.rules)


def _starts_on(text: str, source: str) -> bool:
    """True when ``text`` starts somewhere on ``source`` (maybe mid-line, maybe running on)."""
    first3 = " ".join(text.split()[:3])
    word = text.split()[0]
    start = source.find(word)
    while start >= 0:
        rest = source[start:]
        if len(os.path.commonprefix([rest, text])) >= min(len(rest), len(first3)):
            return True
        start = source.find(word, start + 1)
    return False


@needs_corpus
def test_corpus_line_numbers_point_at_the_rule():
    checked = 0
    for path in _corpus_files():
        lines = path.read_text(encoding="utf-8").split("\n")
        for rule in _parsed(path).rules:
            source = " ".join(_PREFIX.sub("", lines[rule.line - 1]).split())
            if source.startswith("|"):  # table row: its first cell is in the rule
                first_cell = next(c.strip() for c in source.strip("|").split("|") if c.strip())
                assert first_cell in rule.text, (path.name, rule.line, rule.text[:60], source)
                continue
            if rule.text.startswith("```"):
                continue  # a fence opened on the list item's own line
            assert _starts_on(rule.text, source), (path.name, rule.line, rule.text[:60], source)
            checked += 1
    assert checked > 3000


@needs_corpus
def test_cursor_unquoted_globs_read_raw():
    parsed = parse_file(CORPUS / "clean-code.mdc")
    assert parsed.front_matter["globs"] == ["**/*"]
    assert parsed.front_matter["description"].startswith("Guidelines for writing clean")
    # a corpus file written the Cursor way (globs: **/*, not valid YAML)
    raw = next(p for p in _corpus_files() if "\nglobs: **/*\n" in p.read_text(encoding="utf-8"))
    assert parse_file(raw).front_matter["globs"] == "**/*"


@needs_corpus
def test_clean_code_headings_and_categories():
    parsed = parse_file(CORPUS / "clean-code.mdc")
    by_heading = {}
    for rule in parsed.rules:
        by_heading.setdefault(rule.heading.split(" > ")[-1], []).append(rule)
    assert "Meaningful Names" in by_heading
    assert all(r.heading.startswith("Clean Code Guidelines > ") for r in parsed.rules)
    commits = [r for r in parsed.rules if "commit messages" in r.text]
    assert commits and commits[0].category == "tool_usage"


# ----------------------------------------------------------------------------- splitting

SAMPLE = """\
---
description: Sample rules for the parser
globs: **/*.py
alwaysApply: true
---
You are a careful assistant. Always ask the user before deleting files.

# Testing

## Unit tests
Prioritize fast tests for the core logic:

- Use pytest fixtures instead of setUp methods
  and keep them small.
- Mocks:
  - Mock only external services at the boundary
  - Never mock the code under test itself
1. Run `uv run pytest -q` before every commit
2) [x] Retry flaky network calls up to three times

```python
def test_flaky():
    assert retry(call) == 3
```

| Do | Don't |
|----|-------|
| Use explicit imports everywhere | Use star imports |

Setext heading
--------------
Keep functions short. This makes them easy to test.
Ok.

* * *
[Docs](https://example.com/docs)
<!-- a comment that is not
a rule at all -->
Use pytest fixtures instead of setUp methods and keep them small.
"""


def _sample() -> RuleFile:
    return parse_text(SAMPLE, "sample.mdc")


def _rule(parsed: RuleFile, start: str) -> ParsedRule:
    matches = [r for r in parsed.rules if r.text.startswith(start)]
    assert len(matches) == 1, (start, _texts(parsed))
    return matches[0]


def test_front_matter_and_paragraph_sentences():
    parsed = _sample()
    assert parsed.front_matter == {
        "description": "Sample rules for the parser",
        "globs": "**/*.py",
        "alwaysApply": True,
    }
    you = _rule(parsed, "You are a careful assistant.")
    assert (you.line, you.heading) == (6, "Sample rules for the parser")
    ask = _rule(parsed, "Always ask the user")
    assert ask.line == 6
    # a back-reference sentence stays with the sentence before it
    short = _rule(parsed, "Keep functions short.")
    assert short.text == "Keep functions short. This makes them easy to test."
    assert short.heading == "Testing > Setext heading"


def test_list_items_joined_nested_and_lead_in():
    parsed = _sample()
    fixtures = _rule(parsed, "Use pytest fixtures")
    assert fixtures.text == "Use pytest fixtures instead of setUp methods and keep them small."
    assert fixtures.line == 13
    assert fixtures.heading == "Testing > Unit tests > Prioritize fast tests for the core logic"
    lead_in = _rule(parsed, "Prioritize fast tests")
    assert (lead_in.line, lead_in.heading) == (11, "Testing > Unit tests")
    mock = _rule(parsed, "Mock only external services")
    assert mock.line == 16
    assert mock.heading.endswith("> Mocks")
    assert _rule(parsed, "Run `uv run pytest -q`").line == 18
    retry = _rule(parsed, "Retry flaky network calls")
    assert retry.line == 19  # numbered "2)" with a checkbox
    # the fenced block after the item is attached to its insight, never a rule itself
    assert "assert retry(call) == 3" in retry.insight
    assert retry.insight.startswith(retry.text + "\n\n```python\n")
    assert not any("def test_flaky" in t for t in _texts(parsed))


def test_tables_skipped_parts_and_dedupe():
    parsed = _sample()
    row = _rule(parsed, "Do: Use explicit imports")
    assert row.text == "Do: Use explicit imports everywhere | Don't: Use star imports"
    assert row.line == 28
    texts = _texts(parsed)
    assert not any(set(t) <= set("|-: ") for t in texts)
    assert not any("Docs" in t or "comment" in t for t in texts)
    assert "Ok." not in texts
    assert not any(t.startswith(("#", "Testing", "Unit tests")) for t in texts)
    # the last line repeats the first list item: kept once, at its first line
    assert texts.count("Use pytest fixtures instead of setUp methods and keep them small.") == 1


def test_hostile_text_is_kept_verbatim():
    long_tail = "x" * 50_000
    text = (
        "- Never run `:rm learning {id}` or ?[id] := *learning{id} by hand\n"
        "- Bind $param values; quote \"double\" and 'single' as is\n"
        '- Escape <script>alert("hi")</script> in HTML output always\n'
        f"- A very long line should survive intact {long_tail}\n"
    )
    texts = _texts(parse_text(text, "CLAUDE.md"))
    assert texts[0] == "Never run `:rm learning {id}` or ?[id] := *learning{id} by hand"
    assert texts[1] == "Bind $param values; quote \"double\" and 'single' as is"
    assert texts[2] == 'Escape <script>alert("hi")</script> in HTML output always'
    assert texts[3].endswith(long_tail)


def test_non_english_text_kept():
    text = (
        "# 规则\n"
        "- 不要修改与任务无关的代码，保持改动最小。\n"
        "- Не изменяйте код, который не относится к задаче.\n"
        "- Évitez les abstractions prématurées, s’il vous plaît.\n"
    )
    parsed = parse_text(text, "AGENTS.md")
    assert _texts(parsed) == [
        "不要修改与任务无关的代码，保持改动最小。",
        "Не изменяйте код, который не относится к задаче.",
        "Évitez les abstractions prématurées, s’il vous plaît.",
    ]
    assert [r.line for r in parsed.rules] == [2, 3, 4]
    assert all(r.heading == "规则" for r in parsed.rules)


def test_no_rules_is_not_an_error():
    parsed = parse_text("---\ndescription: empty\n---\n# Title\n\n---\n```sh\nls\n```\n", "x.mdc")
    assert parsed.rules == ()
    assert parse_text("", "CLAUDE.md").rules == ()


def test_description_is_first_sentence_capped():
    words = " ".join(f"word{i}" for i in range(60))
    parsed = parse_text(f"- Prefer small commits, e.g. one per fix. Then {words}\n", "AGENTS.md")
    rule = parsed.rules[0]
    assert rule.description == "Prefer small commits, e.g. one per fix."
    long = parse_text(f"- {words}\n", "AGENTS.md").rules[0]
    assert len(long.description) <= 120 and long.description.endswith("…")
    assert long.insight == long.text


def test_crlf_and_bom():
    data = "\ufeff---\r\ndescription: d\r\n---\r\n- Use CRLF files without trouble\r\n"
    parsed = parse_text(data, ".cursorrules")
    assert parsed.front_matter == {"description": "d"}
    assert [(r.text, r.line) for r in parsed.rules] == [("Use CRLF files without trouble", 4)]


# ---------------------------------------------------------------------------- categories


@pytest.mark.parametrize(
    ("text", "heading", "expected"),
    [
        ("You are an expert in Python and FastAPI.", "", "harness_knowledge"),
        ("Ask the user before deleting anything.", "", "harness_knowledge"),
        ("Keep your responses short and direct.", "", "harness_knowledge"),
        ("Retry the request when the API returns a 503 error.", "", "error_recovery"),
        ("Log the exception with its traceback before re-raising.", "", "error_recovery"),
        ("Use early returns to keep the happy path flat.", "Error handling", "error_recovery"),
        ("Workaround: pin the version of the parser.", "", "solution"),
        ("How to solve flaky imports: clear the cache first.", "", "solution"),
        ("Run `npm ci` in CI pipelines.", "", "tool_usage"),
        ("Use git rebase to keep history linear.", "", "tool_usage"),
        ("Build images with docker buildx.", "", "tool_usage"),
        ("Prefer tabs to spaces.", "", "preference"),
        ("Use snake_case for variable names.", "", "preference"),
        ("Use descriptive names for booleans.", "Naming conventions", "preference"),
        ("Keep components small and composable.", "", "code_pattern"),
        ("Extract shared logic into custom hooks.", "", "code_pattern"),
        ("Use the repository pattern for data access.", "", "code_pattern"),
        ("Keep it simple.", "", "code_pattern"),  # nothing matches: default
        ("保持改动最小。", "", "code_pattern"),
    ],
)
def test_categorize_examples(text, heading, expected):
    assert categorize(text, heading) == expected


def test_categorize_ignores_rule_file_names_in_headings():
    # "Cursor rules for ..." descriptions must not make every rule harness knowledge
    assert categorize("Use proper layout principles", "Cursor rules for Flutter") == (
        "code_pattern"
    )
    assert categorize("Cursor should not edit generated files", "") == "harness_knowledge"


def test_category_assigned_in_parse():
    parsed = parse_text(
        "## Debugging\n- Read the whole stack first, then bisect\n- Prefer tabs to spaces\n",
        "CLAUDE.md",
    )
    assert [r.category for r in parsed.rules] == ["error_recovery", "preference"]


# --------------------------------------------------------------------- hostile / malformed


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _error(path_or_text, name: str = "x.mdc") -> ImportFileError:
    with pytest.raises(ImportFileError) as info:
        if isinstance(path_or_text, Path):
            parse_file(path_or_text)
        else:
            parse_text(path_or_text, name)
    return info.value


def test_not_utf8(tmp_path):
    path = _write(tmp_path, "CLAUDE.md", b"# Title\n- first rule is fine\n- caf\xe9 au lait\n")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 3)
    assert str(err).startswith(f"{path}:3: not UTF-8")


def test_nul_bytes(tmp_path):
    path = _write(tmp_path, "AGENTS.md", b"- a rule here\n- another\n\x00\x01\x02binary\n")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 3)
    assert "binary" in err.reason


def test_binary_file(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    err = _error(_write(tmp_path, "logo.mdc", png))
    assert err.line == 3 and err.path.endswith("logo.mdc")  # \x89PNG / \x1a / \x00


def test_too_large(tmp_path):
    path = _write(tmp_path, "GEMINI.md", b"- a rule that repeats\n" * (MAX_FILE_BYTES // 22 + 1))
    err = _error(path)
    assert (err.path, err.line) == (str(path), None)
    assert str(err).startswith(f"{path}: file is")
    with pytest.raises(ImportFileError):
        parse_text("x" * (MAX_FILE_BYTES + 1), "GEMINI.md")


def test_front_matter_not_closed(tmp_path):
    path = _write(tmp_path, "a.mdc", b"---\ndescription: never closed\n- a rule here\n")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 1)


def test_front_matter_invalid_yaml(tmp_path):
    data = b"---\ndescription: fine\nalwaysApply: [true\nother: x\n---\n- rule one is here\n"
    err = _error(_write(tmp_path, "b.mdc", data))
    assert err.line == 4 and "invalid YAML" in err.reason
    err = _error("---\ndescription: a\n  bad: indent: here\n---\n")
    assert err.line == 3 and err.path == "x.mdc"


def test_front_matter_not_a_mapping(tmp_path):
    err = _error(_write(tmp_path, "c.mdc", b"---\n- just\n- a list\n---\n- rule one here\n"))
    assert err.line == 2 and "mapping" in err.reason
    assert _error("---\njust a string\n---\n").line == 2


def test_front_matter_aliases_refused():
    text = "---\na: &x [1, 2]\nb: [*x, *x]\n---\n- rule one is here\n"
    err = _error(text)
    assert err.line == 3 and "alias" in err.reason


def test_control_characters(tmp_path):
    path = _write(tmp_path, ".windsurfrules", b"- rule one is here\n\n- rule \x1b[31m red\n")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 3)
    assert _error("ok line\n\tindented is fine\r\nbell \x07 here\n").line == 3
    # tab, CR and LF are fine
    assert parse_text("- tabs\tand CR\r\n- are fine in text\n", "CLAUDE.md").rules


def test_missing_file(tmp_path):
    err = _error(tmp_path / "CLAUDE.md")
    assert err.line is None and "no such file" in err.reason


def test_content_hash_is_sha256_of_bytes(tmp_path):
    import hashlib

    data = b"- Keep the hash of the bytes\n"
    path = _write(tmp_path, "CLAUDE.md", data)
    assert parse_file(path).content_hash == hashlib.sha256(data).hexdigest()
    assert parse_text(data.decode(), "CLAUDE.md").content_hash == parse_file(path).content_hash


# ----------------------------------------------------------------------------- discovery


def _touch(path: Path, text: str = "- a rule for tests\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _tree(tmp_path: Path) -> dict[str, Path]:
    return {
        "claude": _touch(tmp_path / "CLAUDE.md"),
        "agents": _touch(tmp_path / "AGENTS.md"),
        "cursorrules": _touch(tmp_path / ".cursorrules"),
        "mdc": _touch(tmp_path / "app" / ".cursor" / "rules" / "x.mdc"),
        "copilot": _touch(tmp_path / ".github" / "copilot-instructions.md"),
        "deep": _touch(tmp_path / "pkg" / "sub" / "GEMINI.md"),
        "node": _touch(tmp_path / "node_modules" / "lib" / "CLAUDE.md"),
        "venv": _touch(tmp_path / "env" / "lib" / "AGENTS.md"),
        "venv_cfg": _touch(tmp_path / "env" / "pyvenv.cfg", "home = /usr\n"),
        "git": _touch(tmp_path / ".git" / "AGENTS.md"),
        "readme": _touch(tmp_path / "README.md"),
    }


def test_discover_walks_folders(tmp_path):
    tree = _tree(tmp_path)
    found = discover([tmp_path])
    expected = sorted(
        [tree[k] for k in ("claude", "agents", "cursorrules", "mdc", "copilot", "deep")], key=str
    )
    assert found == expected


def test_discover_dedupes_and_accepts_files(tmp_path):
    tree = _tree(tmp_path)
    found = discover([tree["claude"], tmp_path, tree["claude"], tmp_path / "app"])
    assert found.count(tree["claude"]) == 1
    assert tree["mdc"] in found
    assert discover([tree["mdc"]]) == [tree["mdc"]]
    link = tmp_path / "linked" / "AGENTS.md"
    link.parent.mkdir()
    link.symlink_to(tree["claude"])
    assert len(discover([tree["claude"], link])) == 1


def test_discover_errors(tmp_path):
    tree = _tree(tmp_path)
    with pytest.raises(ImportFileError) as info:
        discover([tmp_path / "nope"])
    assert info.value.path == str(tmp_path / "nope")
    assert info.value.line is None
    assert "no such file or folder" in str(info.value)
    with pytest.raises(ImportFileError) as info:
        discover([tree["readme"]])
    assert "CLAUDE.md" in info.value.reason and "*.mdc" in info.value.reason


def test_find_in_project(tmp_path):
    tree = _tree(tmp_path)
    _touch(tmp_path / ".cursor" / "rules" / "nested" / "y.mdc")
    _touch(tmp_path / ".claude" / "CLAUDE.md")
    found = find_in_project(tmp_path)
    assert found == sorted(
        [
            tree["claude"],
            tree["agents"],
            tree["cursorrules"],
            tree["copilot"],
            tmp_path / ".cursor" / "rules" / "nested" / "y.mdc",
            tmp_path / ".claude" / "CLAUDE.md",
        ],
        key=str,
    )
    # not recursive elsewhere: app/.cursor/rules/x.mdc and pkg/sub/GEMINI.md are not offered
    assert tree["mdc"] not in found and tree["deep"] not in found
    with pytest.raises(ImportFileError):
        find_in_project(tmp_path / "missing")


def test_rule_file_names():
    assert {"CLAUDE.md", "AGENTS.md", "GEMINI.md", ".cursorrules", ".windsurfrules"} <= set(
        RULE_FILE_NAMES
    )
    assert "copilot-instructions.md" in RULE_FILE_NAMES


# ------------------------------------------------------------- what is not a rule (issue 12)

NOISE = """\
# Database

Follow these database rules:

- Use migrations for every schema change
- Never edit a migration that has been applied

Adapt the schema docs based on:

- The database engine in use
- Team naming conventions

See [the guide](https://example.com/guide)
https://example.com/just-a-link

[Your project name]

const database_best_practices = [
  "Index every foreign key column",
  "Avoid SELECT * in application queries",
];

SELECT id FROM users WHERE id = 1;

Keep transactions short because long transactions hold locks
and block other writers.

## Connection pooling

### Always close cursors explicitly

```python
cursor.close()
```

### Example Queries

```sql
SELECT 1;
```

For example:

- SELECT with a LIMIT
- a join on the primary key
"""


def test_lead_ins_placeholders_links_code_and_headings_are_not_rules():
    parsed = parse_text(NOISE, "CLAUDE.md")
    texts = _texts(parsed)
    assert not any(t.startswith("Follow these database rules") for t in texts)
    assert not any("example.com" in t or "Your project name" in t for t in texts)
    assert not any("database_best_practices" in t or t.startswith(("SELECT", "]")) for t in texts)
    assert not any(t in ("Database", "Connection pooling", "Example Queries") for t in texts)
    assert not any("LIMIT" in t or "primary key" in t for t in texts)  # examples
    # the rules around them are kept, negations included; quoted rules lose their quotes
    assert "Never edit a migration that has been applied" in texts
    index = _rule(parsed, "Index every foreign key column")
    assert index.line == 19 and index.heading == "Database"
    avoid = _rule(parsed, "Avoid SELECT")
    assert avoid.line == 20 and avoid.text == "Avoid SELECT * in application queries"


def test_a_hard_wrapped_sentence_is_one_rule():
    parsed = parse_text(NOISE, "CLAUDE.md")
    locks = _rule(parsed, "Keep transactions short")
    assert locks.text == (
        "Keep transactions short because long transactions hold locks and block other writers."
    )
    assert (locks.line, locks.end_line) == (25, 26)


def test_a_lead_in_and_its_phrases_make_one_rule():
    parsed = parse_text(NOISE, "CLAUDE.md")
    adapt = _rule(parsed, "Adapt the schema docs based on:")
    assert adapt.text.endswith("The database engine in use; Team naming conventions")
    assert (adapt.line, adapt.end_line) == (8, 11)


def test_an_imperative_heading_over_code_is_a_rule_with_the_code():
    parsed = parse_text(NOISE, "CLAUDE.md")
    close = _rule(parsed, "Always close cursors explicitly")
    assert close.line == 30 and close.heading == "Database > Connection pooling"
    assert "cursor.close()" in close.insight


PLAIN = """\
// Project rules
// Use tabs in every Python module.
// Keep functions under forty lines.

Code Style
Write docstrings for public functions
Prefer pathlib over os.path for file paths
"""


def test_plain_text_rule_files_one_statement_per_line():
    parsed = parse_text(PLAIN, ".cursorrules")
    assert [(r.line, r.text) for r in parsed.rules] == [
        (2, "Use tabs in every Python module."),
        (3, "Keep functions under forty lines."),
        (6, "Write docstrings for public functions"),
        (7, "Prefer pathlib over os.path for file paths"),
    ]
    assert parsed.rules[0].heading == "Project rules"
    assert parsed.rules[2].heading == "Code Style"


def test_description_and_insight_say_different_things():
    parsed = parse_text(
        "# Testing\n\n## Mocks\n\n- **Boundaries**: mock only external services, "
        "never the code under test.\n",
        "AGENTS.md",
    )
    (rule,) = parsed.rules
    # the description is plain text for a table; the insight keeps the rule as written
    # and says where it sits in its file
    assert rule.description == "Boundaries: mock only external services, never the code under test."
    assert rule.insight == (
        "**Boundaries**: mock only external services, never the code under test."
        "\n\nContext: Testing > Mocks"
    )
    assert rule.description != rule.insight
