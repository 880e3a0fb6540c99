"""Parse assistant rule files into candidate learnings (pure parsing, no database).

Supported files
===============

``CLAUDE.md``, ``AGENTS.md``, ``GEMINI.md``, ``.cursorrules``, ``.windsurfrules``,
``copilot-instructions.md`` (normally ``.github/copilot-instructions.md``) and any
``*.mdc`` file (Cursor rules, usually under ``.cursor/rules/``). Every file is read as
Markdown, optionally opened by YAML front matter between two ``---`` lines.

Where each concern lives
========================

- :mod:`.files` - which files are rule files (:func:`discover`,
  :func:`find_in_project`) and reading one safely;
- :mod:`.front_matter` - the YAML front matter (Cursor's unquoted ``globs``);
- :mod:`.blocks` - Markdown block structure, read with markdown-it-py;
- :mod:`.prose` - what in the text is a rule (titles, lead-ins, code pasted without a
  fence, instructions, back references): heuristics about rules, not Markdown;
- :mod:`.categories` - the category of a rule from keywords.

Description and insight
=======================

Each imported rule gives a learning whose two texts say different things:

- ``description`` is the rule itself as a one-line summary a person scans in a table:
  plain text (emphasis and link syntax removed), the whole rule when it fits in 120
  characters, else its first sentence cut at a word with ``…``;
- ``insight`` is the rule in full as written, then any code or examples that followed it,
  then ``Context: <heading path>`` - where the rule sits in its file (headings, the
  lead-in or parent item it belongs to), which a rule line read alone lacks ("Avoid for
  data fetching" means something under "Limit use client"). The context also goes into
  the full-text index this way, while the embedding already reads the heading from the
  learning's ``pattern``.

Identical rules in one file (same text, compared case-insensitively) are kept once, at
their first line. Every problem with an input is an
:class:`~groove_core.errors.ImportFileError` naming the file and, where one exists, the
1-based line; nothing is returned for such a file:

- a file over :data:`MAX_FILE_BYTES` (2 MiB) - no line;
- NUL bytes (binary content, or UTF-16 without a byte order mark) - line of the first
  NUL (UTF-16 with a byte order mark is read as text);
- bytes that are not UTF-8 - line of the first bad byte;
- control characters other than tab, newline and carriage return - their line;
- front matter that never closes - line 1; whose YAML is invalid - the line YAML reports;
  using YAML aliases - their line; that is not a mapping - line 2.

A file with no actionable rules is not an error: its ``rules`` is empty.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groove_core.io.rules import files, front_matter
from groove_core.io.rules.blocks import Candidate, Reader
from groove_core.io.rules.categories import CATEGORIES, categorize
from groove_core.io.rules.files import (
    MAX_FILE_BYTES,
    RULE_FILE_NAMES,
    RULE_FILE_SUFFIX,
    discover,
    find_in_project,
    is_rule_file_name,
)
from groove_core.io.rules.prose import MIN_WORDS, summary

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
    "is_rule_file_name",
    "parse_file",
    "parse_text",
]

CONTEXT_PREFIX = "Context: "
"""Opens the line of an insight that gives the rule's heading path."""


@dataclass(frozen=True)
class ParsedRule:
    """One candidate learning read from a rule file.

    Attributes:
        text: the rule, whitespace-normalised (list marker removed, otherwise verbatim).
        line: 1-based line of the file where the rule starts.
        end_line: 1-based last line of the file the rule was read from (``>= line``).
        heading: the context path (``"Testing > Unit tests"``): headings, titles,
            lead-ins and parent items; the front matter ``description`` when there is no
            heading; ``""`` when there is neither.
        category: one of :data:`CATEGORIES`.
        description: a one-line summary (<= 120 chars, see the module documentation).
        insight: the full rule, attached code and examples, and its context.
    """

    text: str
    line: int
    end_line: int
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


def parse_text(text: str, path: str) -> RuleFile:
    """Parse the text of a rule file (``path`` names it in errors and in the result).

    Returns:
        a :class:`RuleFile` whose ``content_hash`` is the sha256 of ``text`` as UTF-8.

    Raises:
        ImportFileError: text over 2 MiB, control characters, bad front matter (see the
            module documentation for the list and the line reported).
    """
    path = str(path)
    text = files.check_text(text, path)
    digest = hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()
    return _parse(text, path, digest)


def parse_file(path: Path) -> RuleFile:
    """Read and parse one rule file.

    The size is checked before reading. ``content_hash`` is the sha256 of the bytes.

    Raises:
        ImportFileError: the file is missing, unreadable, over 2 MiB, binary, not
            UTF-8, holds control characters or bad front matter (line given when known).
    """
    name = str(path)
    data = files.read_bytes(Path(path))
    text = files.check_text(files.decode(data, name), name)
    return _parse(text, name, hashlib.sha256(data).hexdigest())


def _parse(text: str, path: str, content_hash: str) -> RuleFile:
    lines = files.split_lines(text)
    meta, first = front_matter.split_front_matter(lines, path)
    described = meta.get("description")
    root = " ".join(described.split()) if isinstance(described, str) else ""
    candidates = Reader(first, root).read("\n".join(lines[first:]))
    return RuleFile(path, meta, tuple(_unique_rules(candidates)), content_hash)


def _unique_rules(candidates: list[Candidate]) -> list[ParsedRule]:
    seen: set[str] = set()
    rules = []
    for cand in candidates:
        key = cand.text.casefold()
        if key not in seen:
            seen.add(key)
            rules.append(_rule(cand))
    return rules


def _rule(cand: Candidate) -> ParsedRule:
    heading = " > ".join(cand.context)
    parts = [cand.text, *cand.extras]
    if heading:
        parts.append(CONTEXT_PREFIX + heading)
    return ParsedRule(
        text=cand.text,
        line=cand.line,
        end_line=max(cand.line, cand.end_line),
        heading=heading,
        category=categorize(cand.text, heading),
        description=summary(cand.text),
        insight="\n\n".join(parts),
    )
