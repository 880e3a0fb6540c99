"""YAML front matter of a rule file (Cursor's ``.mdc`` files open with one).

Read with ``yaml.safe_load`` only; aliases are refused ("billion laughs"). Cursor writes
``globs:`` unquoted (``globs: **/*.ts``), which is not valid YAML: a ``globs`` value that
does not start with a quote or ``[`` is read as raw text, as Cursor does.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from groove_core.errors import ImportFileError

_FENCE_LINE = re.compile(r"^---\s*$")
_RAW_GLOBS = re.compile(r"^globs:[ \t]*(?P<value>[^\s\"'\[].*?)\s*$")


def _yaml_lines(lines: list[str]) -> tuple[str, str | None]:
    """The YAML source with a Cursor-style ``globs`` line neutralised, and its raw value."""
    raw_globs: str | None = None
    out = []
    for line in lines:
        match = _RAW_GLOBS.match(line)
        if match:
            raw_globs = match.group("value")
            line = "globs: null"
        out.append(line)
    return "\n".join(out), raw_globs


def _load(source: str, path: str) -> Any:
    try:
        for token in yaml.scan(source, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AliasToken):
                raise ImportFileError(
                    path, token.start_mark.line + 2, "YAML aliases are not allowed in front matter"
                )
        return yaml.safe_load(source)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ImportFileError(path, line, f"invalid YAML in front matter: {problem}") from None


def split_front_matter(lines: list[str], path: str) -> tuple[dict[str, Any], int]:
    """Read the front matter between a first ``---`` line and the next ``---`` (or ``...``).

    Returns:
        (the front matter as a dict, ``{}`` without one; the index of the first body line).

    Raises:
        ImportFileError: never closed (line 1), invalid YAML (the line YAML reports),
            aliases (their line), or not a mapping (line 2).
    """
    if not lines or not _FENCE_LINE.match(lines[0]):
        return {}, 0
    end = next(
        (i for i in range(1, len(lines)) if _FENCE_LINE.match(lines[i]) or lines[i] == "..."),
        None,
    )
    if end is None:
        raise ImportFileError(path, 1, "front matter opened by '---' is never closed")
    source, raw_globs = _yaml_lines(lines[1:end])
    data = _load(source, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ImportFileError(
            path, 2, f"front matter must be a mapping of keys, not {type(data).__name__}"
        )
    if raw_globs is not None:
        data["globs"] = raw_globs
    return data, end + 1
