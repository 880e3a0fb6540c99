"""Parse assistant rule files into candidate learnings (pure parsing, no database).

Supported files
===============

``CLAUDE.md``, ``AGENTS.md``, ``GEMINI.md``, ``.cursorrules``, ``.windsurfrules``,
``copilot-instructions.md`` (normally ``.github/copilot-instructions.md``) and any
``*.mdc`` file (Cursor rules, usually under ``.cursor/rules/``). Every file is read as
Markdown, optionally opened by YAML front matter between two ``---`` lines.

Public API
==========

- :data:`RULE_FILE_NAMES` - the exact file names recognised (plus the ``.mdc`` suffix).
- :func:`discover` - expand files and folders into the rule files they hold.
- :func:`find_in_project` - the rule files of one project, in their usual places.
- :func:`parse_file` / :func:`parse_text` - one file into a :class:`RuleFile` of
  :class:`ParsedRule`.

Every problem with an input is an :class:`~groove_core.errors.ImportFileError` naming
the file and, where one exists, the 1-based line; nothing is returned for such a file.

How a file is split into rules
==============================

- **List items** (``-``, ``*``, ``+``, ``1.``, ``1)``, with an optional ``[ ]`` / ``[x]``
  checkbox) are one rule each; continuation lines (lazy or indented, also after a blank
  line when indented) are joined to the item. A list item is never split further.
- **Nested list items** are rules of their own. A short parent item (<= 80 chars) is the
  context of its children and is appended to their ``heading`` (``"Testing > Mocks"``);
  the parent is still a rule itself when it is long enough.
- **A lead-in paragraph** ending with ``:`` directly followed by a list is a rule itself
  (when long enough) and the context of that list's items, like a short parent item.
- **Prose paragraphs** are cut into units at lines that begin a new sentence (the line
  before ends with ``. ! ? : ;`` or the line starts with a capital letter, a digit or
  a non-Latin letter after a line that does not end with ``, ( - –``): hard-wrapped
  prose is joined, while a stack of one-line statements stays apart. Each unit is then
  split into sentences; a sentence that is shorter than :data:`MIN_WORDS` or that
  starts with a back reference (``This``, ``It``, ``These``, ``For example``, ...) is
  glued to the sentence before it.
- **Tables**: each body row is a rule, its cells labelled by the header row
  (``"Do: use X | Don't: use Y"``); the header row and the separator row are not rules.
- **Fenced code blocks** are never rules. A block that follows a rule in the same
  section (only blank lines or dropped fragments in between) is appended to that rule's
  ``insight`` (code capped at :data:`MAX_CODE_CHARS` characters per rule); otherwise it is
  skipped. An unclosed fence runs to the end of the file.
- **Skipped**: headings (they become the ``heading`` path), blank lines, horizontal
  rules, HTML comments, link-only lines (links, images, bare URLs, link reference
  definitions), and fragments shorter than :data:`MIN_WORDS` words (a CJK ideograph or
  kana character counts as one word).
- Blockquote markers (``>``) and ``//`` comment markers (``.cursorrules`` files written
  as pseudo-JavaScript) are removed and the rest is read as prose. Lines that look like
  code outside a fence (``const x = [``, ``import ... {``, lone closing brackets,
  ``.method(...)`` chains) end the current block and are skipped.
- ``text`` is whitespace-normalised but otherwise verbatim: Markdown emphasis, quotes,
  ``$param``, Datalog-like text and HTML tags are kept as they are (the store binds
  every value as a parameter). Non-English text is kept intact (no Unicode
  normalisation).
- Identical rules in one file (same text after whitespace normalisation, compared
  case-insensitively) are kept once, at their first line.

Categories
==========

A rule's category comes from keyword patterns (whole words, case-insensitive, with
the usual English inflections). Each category scores 2 points for every distinct
pattern found in the rule's ``text`` and 1 point for every one found in its
``heading``. The highest score wins; ties go to the category listed first below; no
match at all gives ``code_pattern``.

==================  ============================================================
category            keywords
==================  ============================================================
harness_knowledge   "you are", "you're", "as an AI", "the AI", assistant, ask, "the
                    agent", respond, reply, "your response/answer/output", "ask the
                    user", "the user's request", "clarifying question", "step by
                    step", conversation, chat, Claude, Cursor, Copilot, Gemini, LLM,
                    prompt
error_recovery      error, exception, debug, fix, retry, fail/failure, crash, bug,
                    traceback, "stack trace", troubleshoot, recover, fallback,
                    rollback, timeout, panic
solution            "how to", solution, workaround, solve, resolve, "instead of",
                    "the trick", "known issue", "if you see/get/encounter"
tool_usage          tool, CLI, command, terminal, shell, script, git, commit, branch,
                    npm, npx, pnpm, yarn, bun, pip, uv, poetry, cargo, go (get, mod,
                    test, build, run), Makefile, docker, compose, kubectl, run,
                    install, lint(er), formatter, pytest, jest, vitest, CI, deploy
preference          prefer, always, never, avoid, style, naming, name, format,
                    convention, consistent, "do not", "don't", readable, concise,
                    indent, camelCase, snake_case, PascalCase, kebab-case
code_pattern        pattern, architecture, structure, component, hook, module,
                    class, interface, function, type, abstraction, layer, design,
                    dependency injection, state, API, schema, model, service
==================  ============================================================

Assistant and file names (Claude, Cursor, Copilot, Gemini, LLM, prompt, assistant,
"the AI") count in the text only, never in the heading: a front matter description
such as "Cursor rules for Flutter" must not make every rule harness knowledge.
Only the first 2,000 characters of a text or heading are read. Non-English rules
mostly match nothing and so default to ``code_pattern``.

Malformed and hostile input
===========================

Each raises :class:`~groove_core.errors.ImportFileError` (``path:line: reason``):

- a file over :data:`MAX_FILE_BYTES` (2 MiB) - no line;
- NUL bytes (binary content) - line of the first NUL;
- bytes that are not UTF-8 - line of the first bad byte;
- control characters other than tab, newline and carriage return - their line;
- front matter that never closes - line 1;
- front matter whose YAML is invalid - the line YAML reports;
- front matter using YAML aliases (``*name``; refused: "billion laughs") - their line;
- front matter that is not a mapping - line 2.

A file with no actionable rules is not an error: its ``rules`` is empty. YAML is read
with ``yaml.safe_load`` only. Cursor writes ``globs:`` unquoted (``globs: **/*.ts``),
which is not valid YAML; a ``globs`` value that does not start with a quote or ``[``
is therefore read as raw text, as Cursor does.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from groove_core.errors import ImportFileError

__all__ = [
    "CATEGORIES",
    "MAX_FILE_BYTES",
    "MIN_WORDS",
    "RULE_FILE_NAMES",
    "RULE_FILE_SUFFIX",
    "ParsedRule",
    "RuleFile",
    "categorize",
    "discover",
    "find_in_project",
    "parse_file",
    "parse_text",
]

RULE_FILE_NAMES: frozenset[str] = frozenset(
    {
        "CLAUDE.md",
        "AGENTS.md",
        "GEMINI.md",
        ".cursorrules",
        ".windsurfrules",
        "copilot-instructions.md",
    }
)
"""Exact file names recognised as rule files (besides any ``*.mdc`` file)."""

RULE_FILE_SUFFIX = ".mdc"
MAX_FILE_BYTES = 2 * 1024 * 1024
MIN_WORDS = 3
MAX_DESCRIPTION_CHARS = 120
MAX_CODE_CHARS = 2000
MAX_CONTEXT_CHARS = 80
_CATEGORY_SCAN_CHARS = 2000  # categories are read from the start of long rules

CATEGORIES: tuple[str, ...] = (
    "harness_knowledge",
    "error_recovery",
    "solution",
    "tool_usage",
    "preference",
    "code_pattern",
)
"""All categories, in tie-break order."""

# Folders never entered while walking: VCS metadata, dependencies, virtualenvs, caches.
_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        "site-packages",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class ParsedRule:
    """One candidate learning read from a rule file.

    Attributes:
        text: the rule, whitespace-normalised (list marker removed, otherwise verbatim).
        line: 1-based line of the file where the rule starts.
        heading: the Markdown heading path (``"Testing > Unit tests"``), extended by
            lead-in context; the front matter ``description`` when there is no heading;
            ``""`` when there is neither.
        category: one of :data:`CATEGORIES`.
        description: a one-line summary (<= 120 chars): the rule's first sentence,
            cut at a word boundary with ``…`` when longer.
        insight: the full rule text, followed by any attached code blocks.
    """

    text: str
    line: int
    heading: str
    category: str
    description: str
    insight: str


@dataclass(frozen=True)
class RuleFile:
    """A parsed rule file.

    Attributes:
        path: the file's path as given (``str``).
        front_matter: the YAML front matter as a dict (``{}`` without one); ``globs`` is
            a string when written the Cursor way (unquoted), else whatever YAML gives.
        rules: the rules in file order, de-duplicated.
        content_hash: hex sha256 of the file's bytes (of the UTF-8 text for
            :func:`parse_text`).
    """

    path: str
    front_matter: dict[str, Any] = field(hash=False)
    rules: tuple[ParsedRule, ...]
    content_hash: str


# ----------------------------------------------------------------------------- discovery


def is_rule_file_name(name: str) -> bool:
    """True when ``name`` (a bare file name) is a supported rule file."""
    return name in RULE_FILE_NAMES or (
        name.lower().endswith(RULE_FILE_SUFFIX) and len(name) > len(RULE_FILE_SUFFIX)
    )


def _supported_names() -> str:
    return ", ".join(sorted(RULE_FILE_NAMES)) + f", *{RULE_FILE_SUFFIX}"


def _is_virtualenv(dirpath: str) -> bool:
    return os.path.isfile(os.path.join(dirpath, "pyvenv.cfg"))


def _walk(folder: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in _SKIP_DIRS and not _is_virtualenv(os.path.join(dirpath, d))
        )
        for name in sorted(filenames):
            candidate = Path(dirpath, name)
            if is_rule_file_name(name) and candidate.is_file():
                yield candidate


def _sorted_unique(found: Iterable[Path]) -> list[Path]:
    seen: set[Path] = set()
    result: list[Path] = []
    for path in sorted(found, key=str):
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            result.append(path)
    return result


def discover(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders into the rule files they hold.

    Folders are walked recursively (also hidden ones such as ``.cursor/rules/`` and
    ``.github/``), skipping ``.git``, ``node_modules``, virtualenvs (``.venv``, ``venv``
    or any folder holding ``pyvenv.cfg``) and tool caches; symlinked folders are not
    followed. Only supported names are picked up from folders.

    Returns:
        the rule files, sorted by path and de-duplicated (two paths resolving to the
        same file, e.g. an ``AGENTS.md`` symlinked to ``CLAUDE.md``, count once; the
        first in sorted order is kept).

    Raises:
        ImportFileError: a path does not exist (``"no such file or folder"``), or a
            file given explicitly has an unsupported name.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(_walk(path))
        elif path.is_file():
            if not is_rule_file_name(path.name):
                raise ImportFileError(
                    str(path),
                    None,
                    f"'{path.name}' is not a supported rule file; supported names: "
                    f"{_supported_names()}",
                )
            found.append(path)
        elif path.exists():
            raise ImportFileError(str(path), None, "not a regular file or folder")
        else:
            raise ImportFileError(str(path), None, "no such file or folder")
    return _sorted_unique(found)


def find_in_project(root: Path) -> list[Path]:
    """List the rule files of the project at ``root``, in their usual places.

    Looks at the rule files directly in ``root`` (not in sub-folders), at
    ``root/.claude/CLAUDE.md``, and recursively under ``root/.cursor/rules/`` and
    ``root/.github/`` (where ``copilot-instructions.md`` lives). Sorted, de-duplicated.

    Raises:
        ImportFileError: ``root`` is not an existing folder.
    """
    root = Path(root)
    if not root.is_dir():
        reason = "not a folder" if root.exists() else "no such file or folder"
        raise ImportFileError(str(root), None, reason)
    found = [p for p in sorted(root.iterdir()) if p.is_file() and is_rule_file_name(p.name)]
    claude_dir = root / ".claude" / "CLAUDE.md"
    if claude_dir.is_file():
        found.append(claude_dir)
    for sub in (root / ".cursor" / "rules", root / ".github"):
        if sub.is_dir():
            found.extend(_walk(sub))
    return _sorted_unique(found)


# ------------------------------------------------------------------------------ decoding

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _split_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _line_of_offset(text: str, offset: int) -> int:
    return len(_split_lines(text[:offset]))


def _decode(data: bytes, path: str) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            path, None, f"file is {len(data)} bytes, over the {MAX_FILE_BYTES} byte limit"
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        line = _line_of_offset(data[:nul].decode("utf-8", errors="replace"), nul)
        raise ImportFileError(path, line, "NUL byte: this looks like a binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = _line_of_offset(data[: err.start].decode("utf-8", errors="replace"), err.start)
        raise ImportFileError(
            path, line, f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})"
        ) from None


# --------------------------------------------------------------------------- front matter

_FENCE_LINE = re.compile(r"^---\s*$")
_RAW_GLOBS = re.compile(r"^globs:[ \t]*(?P<value>[^\s\"'\[].*?)\s*$")


def _front_matter(lines: list[str], path: str) -> tuple[dict[str, Any], int]:
    """Return (front matter, index of the first body line)."""
    if not lines or not _FENCE_LINE.match(lines[0]):
        return {}, 0
    end = next(
        (i for i in range(1, len(lines)) if _FENCE_LINE.match(lines[i]) or lines[i] == "..."),
        None,
    )
    if end is None:
        raise ImportFileError(path, 1, "front matter opened by '---' is never closed")
    raw_globs: str | None = None
    yaml_lines = []
    for line in lines[1:end]:
        match = _RAW_GLOBS.match(line)
        if match:
            raw_globs = match.group("value")
            line = "globs: null"
        yaml_lines.append(line)
    source = "\n".join(yaml_lines)
    try:
        for token in yaml.scan(source, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AliasToken):
                raise ImportFileError(
                    path,
                    token.start_mark.line + 2,
                    "YAML aliases are not allowed in front matter",
                )
        data = yaml.safe_load(source)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ImportFileError(path, line, f"invalid YAML in front matter: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ImportFileError(
            path, 2, f"front matter must be a mapping of keys, not {type(data).__name__}"
        )
    if raw_globs is not None:
        data["globs"] = raw_globs
    return data, end + 1


# ----------------------------------------------------------------------------- splitting

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_HR = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_ITEM = re.compile(r"^(?P<indent>\s*)(?P<marker>[-*+]|\d{1,9}[.)])(?:[ \t]+(?P<rest>.*))?$")
_CODE_LINE = re.compile(
    r"^\s*(?:(?:const|let|var|function|import|export|return|def|class|interface|public|private|"
    r"protected|package|fn|func|async)\b.*[=({;\[`]\s*$"
    r"|[\]})]+[;,)`]*\s*$"
    r"|\.\w+\(.*[),]\s*$)"
)
_LINE_COMMENT = re.compile(r"^\s*//+\s?")
_CHECKBOX = re.compile(r"^\[[ xX]\][ \t]+")
_TABLE_CELL_SEP = re.compile(r":?-+:?")
_BLOCKQUOTE = re.compile(r"^[ \t]*(>[ \t]?)+")
_LINKS = re.compile(
    r"!?\[[^\]]*\]\([^)]*\)|!?\[[^\]]*\]\[[^\]]*\]|<https?://[^>]*>|https?://\S+|www\.\S+"
)
_LINK_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+")
_WORD = re.compile(r"\w", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SENTENCE_END = re.compile(
    r"(?<=[.!?])[\"')\]*_`]*\s+(?=[\"'(\[*_`]*[A-Z0-9\u00c0-\u024f\u0370-\u1fff\u3000-\uffff])"
    r"|(?<=[。！？])\s*"
)
_ABBREVIATIONS = frozenset(
    {"e.g.", "i.e.", "etc.", "vs.", "cf.", "mr.", "mrs.", "ms.", "dr.", "no.", "approx."}
)
_BACKREF = re.compile(
    r"^[\"'(*_`]*(this|that|these|those|it|its|they|them|otherwise|also|instead|however|"
    r"but|then|so|e\.g\.|i\.e\.|for example|for instance|example)\b",
    re.IGNORECASE,
)
_NEW_UNIT_START = re.compile(r"^[\"'(*_`]*[A-Z0-9\u00c0-\u00de\u0370-\u1fff\u3000-\uffff]")


def _is_table_separator(row: str) -> bool:
    """``|---|:--:|`` (linear: no regex backtracking over long rows)."""
    row = row.strip()
    if "-" not in row:
        return False
    cells = row.strip("|").split("|")
    return all(_TABLE_CELL_SEP.fullmatch(cell.strip()) for cell in cells)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _word_count(text: str) -> int:
    cjk = len(_CJK.findall(text))
    return len(_CJK.sub(" ", text).split()) + cjk


def _is_link_only(text: str) -> bool:
    if _LINK_DEF.match(text):
        return True
    stripped = _LINKS.sub(" ", text)
    return stripped != text and not _WORD.search(stripped)


def _is_actionable(text: str) -> bool:
    return _word_count(text) >= MIN_WORDS and not _is_link_only(text) and bool(_WORD.search(text))


def _sentences(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into (start, end) spans of sentences."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() >= len(text):
            break
        before = text[start : match.start()].rsplit(None, 1)
        if before and before[-1].lower() in _ABBREVIATIONS:
            continue
        if match.start() <= start:
            continue
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _first_sentence(text: str) -> str:
    spans = _sentences(text)
    first = text[spans[0][0] : spans[0][1]].strip() if spans else text
    if len(first) <= MAX_DESCRIPTION_CHARS:
        return first
    cut = first[: MAX_DESCRIPTION_CHARS - 1]
    if " " in cut[MAX_DESCRIPTION_CHARS // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


def _context_label(text: str) -> str | None:
    label = _norm(text).rstrip(":：").strip()
    label = label.strip("*_ ").rstrip(":：").strip()
    if not label or len(label) > MAX_CONTEXT_CHARS:
        return None
    return label


@dataclass
class _Candidate:
    text: str
    line: int
    heading: str
    code: list[str] = field(default_factory=list)


class _Splitter:
    """Line-by-line Markdown reader producing rule candidates."""

    def __init__(self, lines: list[str], first: int, description: str) -> None:
        self.lines = lines
        self.first = first
        self.description = description
        self.headings: list[tuple[int, str]] = []
        self.candidates: list[_Candidate] = []
        self.attach_to: _Candidate | None = None
        self.paragraph: list[tuple[int, str]] = []
        # open list items, outermost first: dicts with indent (of the marker), content
        # (indent of the item's text), parts (text lines), line, label (context for
        # children) and code (fenced blocks met inside the item)
        self.items: list[dict[str, Any]] = []
        self.leadin: str | None = None  # context from a paragraph ending with ':'
        self.pending_leadin: str | None = None
        self.blank_since_item = False
        self.table_header: list[str] | None = None

    # ---- heading context
    def _heading(self, extra: list[str]) -> str:
        parts = [text for _, text in self.headings]
        if not parts and self.description:
            parts = [self.description]
        return " > ".join(p for p in parts + extra if p)

    def _item_context(self, depth: int) -> list[str]:
        ctx = [self.leadin] if self.leadin else []
        ctx += [it["label"] for it in self.items[:depth] if it["label"]]
        return ctx

    # ---- emitting
    def _emit(self, text: str, line: int, heading: str) -> None:
        """Record a rule candidate; drop it (keeping ``attach_to``) when not actionable."""
        text = _norm(text)
        if not _is_actionable(text):
            return
        cand = _Candidate(text, line, heading)
        self.candidates.append(cand)
        self.attach_to = cand

    def _close_items(self, down_to: int = 0) -> None:
        """Emit and close open list items until ``down_to`` remain."""
        while len(self.items) > down_to:
            item = self.items.pop()
            depth = len(self.items)
            text = " ".join(item["parts"])
            self._emit(text, item["line"], self._heading(self._item_context(depth)))
            if item["code"] and self.attach_to is not None:
                for fence, body in item["code"]:
                    self._attach(self.attach_to, fence, body)

    def _flush_paragraph(self) -> None:
        """Emit the open paragraph; remember it as a lead-in when it ends with ':'."""
        if not self.paragraph:
            return
        para = self.paragraph
        self.paragraph = []
        heading = self._heading([])
        for unit in self._units(para):
            self._emit_prose(unit, heading)
        last = para[-1][1].rstrip()
        if last.endswith((":", "：")):
            self.pending_leadin = _context_label(" ".join(t for _, t in para))
        else:
            self.pending_leadin = None

    def _units(self, para: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
        units: list[list[tuple[int, str]]] = [[para[0]]]
        for prev, cur in zip(para, para[1:], strict=False):
            prev_text = prev[1].rstrip()
            ends_sentence = prev_text.endswith((".", "!", "?", ":", ";", "。", "！", "？", "："))
            continues = prev_text.endswith((",", "(", "-", "–", "—", "/", "&"))
            if ends_sentence or (_NEW_UNIT_START.match(cur[1]) and not continues):
                units.append([cur])
            else:
                units[-1].append(cur)
        return units

    def _emit_prose(self, unit: list[tuple[int, str]], heading: str) -> None:
        """Split one prose unit into sentences (glued when short) and emit them."""
        starts: list[int] = []
        numbers: list[int] = []
        parts: list[str] = []
        offset = 0
        for lineno, part in unit:
            part = part.strip()
            starts.append(offset)
            numbers.append(lineno)
            parts.append(part)
            offset += len(part) + 1
        text = " ".join(parts)
        merged: list[tuple[int, int]] = []
        merged_words = 0
        for a, b in _sentences(text):
            sentence = text[a:b]
            words = _word_count(sentence)
            if merged and (
                words < MIN_WORDS or merged_words < MIN_WORDS or _BACKREF.match(sentence)
            ):
                merged[-1] = (merged[-1][0], b)
                merged_words += words
            else:
                merged.append((a, b))
                merged_words = words
        for a, b in merged:
            line = numbers[bisect.bisect_right(starts, a) - 1]
            self._emit(text[a:b], line, heading)

    # ---- main loop
    def run(self) -> list[_Candidate]:
        lines = self.lines
        i = self.first
        n = len(lines)
        while i < n:
            raw = lines[i]
            lineno = i + 1
            stripped = raw.strip()

            fence = _FENCE.match(raw)
            if fence and not (fence["fence"][0] == "`" and "`" in fence["info"]):
                i = self._code_block(i, fence)
                continue

            if stripped.startswith("<!--"):
                self._flush_paragraph()
                while i < n and "-->" not in lines[i]:
                    i += 1
                i += 1
                continue

            if not stripped:
                self._flush_paragraph()
                if self.items:
                    self.blank_since_item = True
                self.table_header = None
                i += 1
                continue

            setext = _SETEXT.match(raw)
            if setext and len(self.paragraph) == 1 and not self.items:
                level = 1 if setext.group(1).startswith("=") else 2
                text = self.paragraph.pop()[1]
                self._set_heading(level, text)
                i += 1
                continue

            heading = _HEADING.match(raw)
            if heading:
                self._set_heading(len(heading.group(1)), heading.group(2) or "")
                i += 1
                continue

            if _HR.match(raw):
                self._end_blocks()
                self.attach_to = None
                i += 1
                continue

            item = _ITEM.match(raw)
            if item and _FENCE.match(item["rest"] or ""):
                # "- ```lang": a list item that is only code; the code joins the last rule
                indent = len(item["indent"]) + len(item["marker"]) + 1
                item_fence = _FENCE.match(" " * indent + item["rest"])
                assert item_fence is not None
                i = self._code_block(i, item_fence)
                continue
            if item and (item["rest"] or "").strip():
                self._list_item(item, lineno)
                i += 1
                continue

            if stripped.startswith("|") and stripped.count("|") >= 2:
                self._table_row(stripped, lineno, i)
                i += 1
                continue

            if _CODE_LINE.match(raw):
                self._end_blocks()
                i += 1
                continue
            text = _BLOCKQUOTE.sub("", raw) if stripped.startswith(">") else raw
            text = _LINE_COMMENT.sub("", text)
            if self.items:
                indent = len(raw) - len(raw.lstrip())
                top = self.items[-1]
                if not self.blank_since_item or indent >= top["content"]:
                    top["parts"].append(text.strip())
                    self.blank_since_item = False
                    i += 1
                    continue
                self._end_blocks()
            if not self.paragraph and self.pending_leadin:
                self.pending_leadin = None
            if text.strip():
                self.paragraph.append((lineno, text.strip()))
            i += 1
        self._end_blocks()
        self.candidates.sort(key=lambda c: c.line)
        return self.candidates

    def _end_blocks(self) -> None:
        self._flush_paragraph()
        self._close_items()
        self.leadin = None
        self.pending_leadin = None
        self.blank_since_item = False

    def _set_heading(self, level: int, text: str) -> None:
        self._end_blocks()
        self.attach_to = None
        self.headings = [(lvl, t) for lvl, t in self.headings if lvl < level]
        text = _norm(text)
        if text:
            self.headings.append((level, text))

    def _list_item(self, item: re.Match[str], lineno: int) -> None:
        if self.paragraph:
            self._flush_paragraph()
        if not self.items:
            self.leadin = self.pending_leadin
            self.pending_leadin = None
        indent = len(item["indent"].expandtabs(4))
        while self.items and indent <= self.items[-1]["indent"]:
            self._close_items(len(self.items) - 1)
        rest = _CHECKBOX.sub("", item["rest"].strip())
        content = indent + len(item["marker"]) + 1
        self.items.append(
            {
                "indent": indent,
                "content": content,
                "parts": [rest],
                "line": lineno,
                "label": _context_label(rest),
                "code": [],
            }
        )
        self.blank_since_item = False

    def _table_row(self, row: str, lineno: int, index: int) -> None:
        """A table row: header rows give labels, body rows become ``"H: cell | H: cell"``."""
        if self.paragraph or self.items:
            self._end_blocks()
        if _is_table_separator(row):
            return
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        nxt = self.lines[index + 1].strip() if index + 1 < len(self.lines) else ""
        if nxt.startswith("|") and _is_table_separator(nxt):
            self.table_header = cells
            return
        header = self.table_header
        if header and len(header) == len(cells):
            parts = [f"{h}: {c}" if h else c for h, c in zip(header, cells, strict=True) if c]
        else:
            parts = [c for c in cells if c]
        self._emit(" | ".join(parts), lineno, self._heading([]))

    def _code_block(self, start: int, fence: re.Match[str]) -> int:
        """Skip a fenced code block starting at ``start``; return the next index."""
        self._flush_paragraph()
        marker = fence["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
        i = start + 1
        body: list[str] = []
        while i < len(self.lines) and not closing.match(self.lines[i]):
            body.append(self.lines[i])
            i += 1
        if self.items:
            # inside (or right after) a list: the code belongs to the deepest open item
            self.items[-1]["code"].append((fence, body))
        elif self.attach_to is not None:
            self._attach(self.attach_to, fence, body)
        self.blank_since_item = False
        return i + 1

    def _attach(self, target: _Candidate, fence: re.Match[str], body: list[str]) -> None:
        used = sum(len(c) for c in target.code)
        indent = len(fence["indent"])
        code = "\n".join(line[indent:] if line[:indent].isspace() else line for line in body)
        room = MAX_CODE_CHARS - used
        if room <= 0:
            return
        truncated = len(code) > room
        code = code[:room]
        block = f"```{fence['info'].strip()}\n{code}\n```"
        if truncated:
            block += "\n… (code truncated)"
        target.code.append(block)


# ---------------------------------------------------------------------------- categories


_BOUNDARY_BEFORE, _BOUNDARY_AFTER = r"(?<![\w-])", r"(?![\w-])"


def _patterns(*words: str) -> tuple[re.Pattern[str], ...]:
    return tuple(
        re.compile(f"{_BOUNDARY_BEFORE}{w}{_BOUNDARY_AFTER}", re.IGNORECASE) for w in words
    )


# Words that describe rule files themselves ("Cursor rules for ...", "System prompt"):
# they count in a rule's text but not in its heading.
_TEXT_ONLY = frozenset(
    {
        r"(ai )?assistants?",
        r"the ai",
        r"claude",
        r"cursor",
        r"copilot",
        r"gemini",
        r"llms?",
        r"prompts?",
    }
)


_CATEGORY_PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    "harness_knowledge": _patterns(
        r"you are",
        r"you're",
        r"as an ai",
        r"ask(s|ed|ing)?",
        r"the ai",
        r"(ai )?assistants?",
        r"the agents?",
        r"respond(s|ed|ing)?",
        r"repl(y|ies|ied|ying)",
        r"your (responses?|answers?|output|replies|role|task)",
        r"ask (the )?users?",
        r"(the )?user'?s request",
        r"clarifying questions?",
        r"step[- ]by[- ]step",
        r"conversations?",
        r"chat",
        r"claude",
        r"cursor",
        r"copilot",
        r"gemini",
        r"llms?",
        r"prompts?",
    ),
    "error_recovery": _patterns(
        r"errors?",
        r"exceptions?",
        r"debug(s|ged|ging|ger)?",
        r"fix(es|ed|ing)?",
        r"retr(y|ies|ied|ying)",
        r"fail(s|ed|ing|ures?)?",
        r"crash(es|ed|ing)?",
        r"bugs?",
        r"tracebacks?",
        r"stack ?traces?",
        r"troubleshoot(s|ed|ing)?",
        r"recover(s|ed|ing|y)?",
        r"fallbacks?",
        r"roll ?backs?",
        r"time ?outs?",
        r"panics?",
    ),
    "solution": _patterns(
        r"how to",
        r"solutions?",
        r"workarounds?",
        r"solv(e|es|ed|ing)",
        r"resolv(e|es|ed|ing)",
        r"instead of",
        r"the trick",
        r"known issues?",
        r"if you (see|get|encounter|hit)",
    ),
    "tool_usage": _patterns(
        r"tools?",
        r"tooling",
        r"cli",
        r"commands?",
        r"terminal",
        r"shell",
        r"scripts?",
        r"git",
        r"commits?",
        r"branch(es)?",
        r"npm",
        r"npx",
        r"pnpm",
        r"yarn",
        r"bun",
        r"pip",
        r"uv",
        r"poetry",
        r"cargo",
        r"go (get|mod|test|build|run)",
        r"makefile",
        r"docker",
        r"compose",
        r"kubectl",
        r"run(s|ning)?",
        r"install(s|ed|ing)?",
        r"lint(s|er|ers|ing)?",
        r"formatters?",
        r"pytest",
        r"jest",
        r"vitest",
        r"ci",
        r"deploy(s|ed|ing|ment)?",
    ),
    "preference": _patterns(
        r"prefer(s|red|ring|ably)?",
        r"always",
        r"never",
        r"avoid(s|ed|ing)?",
        r"styles?",
        r"naming",
        r"names?",
        r"format(s|ted|ting)?",
        r"conventions?",
        r"consistent(ly)?",
        r"do not",
        r"don'?t",
        r"readab(le|ility)",
        r"concise(ly)?",
        r"indent(ation|s)?",
        r"camelcase",
        r"snake_case",
        r"pascalcase",
        r"kebab-case",
    ),
    "code_pattern": _patterns(
        r"patterns?",
        r"architectur(e|al)",
        r"structure[sd]?",
        r"components?",
        r"hooks?",
        r"modules?",
        r"class(es)?",
        r"interfaces?",
        r"functions?",
        r"types?",
        r"abstractions?",
        r"layers?",
        r"design",
        r"dependency injection",
        r"state",
        r"apis?",
        r"schemas?",
        r"models?",
        r"services?",
    ),
}


_HEADING_EXCLUDED = frozenset(p.pattern for p in _patterns(*_TEXT_ONLY))


def _any_of(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str] | None:
    words = [p.pattern[len(_BOUNDARY_BEFORE) : -len(_BOUNDARY_AFTER)] for p in patterns]
    inner = "|".join(f"(?:{w})" for w in words)
    pattern = f"{_BOUNDARY_BEFORE}(?:{inner}){_BOUNDARY_AFTER}"
    return re.compile(pattern, re.IGNORECASE) if words else None


# one combined pattern per category: a quick "nothing here" before counting patterns
_ANY_IN_TEXT = {c: _any_of(ps) for c, ps in _CATEGORY_PATTERNS.items()}
_HEADING_PATTERNS = {
    c: tuple(p for p in ps if p.pattern not in _HEADING_EXCLUDED)
    for c, ps in _CATEGORY_PATTERNS.items()
}
_ANY_IN_HEADING = {c: _any_of(ps) for c, ps in _HEADING_PATTERNS.items()}


def _scores(text: str, table: dict[str, tuple[re.Pattern[str], ...]], quick: dict) -> list[int]:
    scores = []
    for category in CATEGORIES:
        combined = quick[category]
        if not text or combined is None or not combined.search(text):
            scores.append(0)
        else:
            scores.append(sum(1 for p in table[category] if p.search(text)))
    return scores


@functools.lru_cache(maxsize=1024)
def _heading_scores(heading: str) -> tuple[int, ...]:
    return tuple(_scores(heading, _HEADING_PATTERNS, _ANY_IN_HEADING))


def categorize(text: str, heading: str = "") -> str:
    """Pick the category of a rule from its text and heading (rules in the module doc).

    >>> categorize("Retry the request when the API returns a 503 error")
    'error_recovery'
    """
    text, heading = text[:_CATEGORY_SCAN_CHARS], heading[:_CATEGORY_SCAN_CHARS]
    in_text = _scores(text, _CATEGORY_PATTERNS, _ANY_IN_TEXT)
    in_heading = _heading_scores(heading)
    best, best_score = "code_pattern", 0
    for category, t, h in zip(CATEGORIES, in_text, in_heading, strict=True):
        score = 2 * t + h
        if score > best_score:
            best, best_score = category, score
    return best


# ------------------------------------------------------------------------------- parsing


def parse_text(text: str, path: str) -> RuleFile:
    """Parse the text of a rule file (``path`` names it in errors and in the result).

    Returns:
        a :class:`RuleFile` whose ``content_hash`` is the sha256 of ``text`` as UTF-8.

    Raises:
        ImportFileError: text over 2 MiB, control characters, bad front matter (see the
            module documentation for the list and the line reported).
    """
    path = str(path)
    data = text.encode("utf-8", errors="surrogatepass")
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            path, None, f"file is {len(data)} bytes, over the {MAX_FILE_BYTES} byte limit"
        )
    return _parse(text, path, hashlib.sha256(data).hexdigest())


def parse_file(path: Path) -> RuleFile:
    """Read and parse one rule file.

    The size is checked before reading. ``content_hash`` is the sha256 of the bytes.

    Raises:
        ImportFileError: the file is missing, unreadable, over 2 MiB, binary, not
            UTF-8, holds control characters or bad front matter (line given when known).
    """
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportFileError(
                name, None, f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit"
            )
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ImportFileError(name, None, "no such file or folder") from None
    except IsADirectoryError:
        raise ImportFileError(name, None, "is a folder, not a file") from None
    except OSError as err:
        raise ImportFileError(name, None, f"cannot read: {err.strerror or err}") from None
    text = _decode(data, name)
    return _parse(text, name, hashlib.sha256(data).hexdigest())


def _parse(text: str, path: str, content_hash: str) -> RuleFile:
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = _CONTROL.search(text)
    if bad:
        char = bad.group()
        if char == "\x00":
            reason = "NUL character: this looks like a binary file"
        else:
            reason = f"control character U+{ord(char):04X} ({char!r}) in text"
        raise ImportFileError(path, _line_of_offset(text, bad.start()), reason)
    surrogate = re.search(r"[\ud800-\udfff]", text)
    if surrogate:
        raise ImportFileError(
            path, _line_of_offset(text, surrogate.start()), "lone surrogate: not valid Unicode text"
        )
    lines = _split_lines(text)
    front_matter, first = _front_matter(lines, path)
    description = front_matter.get("description")
    description = _norm(description) if isinstance(description, str) else ""
    candidates = _Splitter(lines, first, description).run()
    rules: list[ParsedRule] = []
    seen: set[str] = set()
    for cand in candidates:
        key = cand.text.casefold()
        if key in seen:
            continue
        seen.add(key)
        insight = "\n\n".join([cand.text, *cand.code])
        rules.append(
            ParsedRule(
                text=cand.text,
                line=cand.line,
                heading=cand.heading,
                category=categorize(cand.text, cand.heading),
                description=_first_sentence(cand.text),
                insight=insight,
            )
        )
    return RuleFile(
        path=path, front_matter=front_matter, rules=tuple(rules), content_hash=content_hash
    )
