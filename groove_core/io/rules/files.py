"""Which files are rule files, where a project keeps them, and reading one safely.

Every problem is an :class:`~groove_core.errors.ImportFileError` naming the file and, where
one exists, the 1-based line.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from groove_core.errors import ImportFileError
from groove_core.model.values import CONTROLS

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


# ------------------------------------------------------------------------------ reading

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` for any line ending (``\\r\\n``, ``\\r`` or ``\\n``)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _line_of_offset(text: str, offset: int) -> int:
    return len(split_lines(text[:offset]))


def _too_large(path: str, size: int) -> ImportFileError:
    reason = f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit"
    return ImportFileError(path, None, reason)


def read_bytes(path: Path) -> bytes:
    """The bytes of the file at ``path``, its size checked before it is read.

    Raises:
        ImportFileError: missing, a folder, unreadable, over :data:`MAX_FILE_BYTES`, or
            a path that is not UTF-8 (it could not be stored as the learnings' source; the
            error shows its bytes escaped, ``\\xfe``).
    """
    name = str(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", errors="backslashreplace")
        raise ImportFileError(
            shown, None, "its path is not UTF-8 text: rename the file or its folder"
        ) from None
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _too_large(name, size)
        with path.open("rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ImportFileError(name, None, "no such file or folder") from None
    except IsADirectoryError:
        raise ImportFileError(name, None, "is a folder, not a file") from None
    except OSError as err:
        raise ImportFileError(name, None, f"cannot read: {err.strerror or err}") from None


def decode(data: bytes, path: str) -> str:
    """``data`` as text: UTF-8, or UTF-16 when it starts with a UTF-16 byte order mark
    (what Windows PowerShell writes); refused when too large, binary or neither.

    Raises:
        ImportFileError: over :data:`MAX_FILE_BYTES` (no line), a NUL byte or a byte
            that is not UTF-8 (the line where it is), or UTF-16 that does not decode.
    """
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(path, len(data))
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise ImportFileError(
                path, None, f"not valid UTF-16 text ({err.reason} at byte {err.start})"
            ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = _line_of_offset(data[:nul].decode("utf-8", errors="replace"), nul)
        raise ImportFileError(
            path,
            line,
            "NUL byte: this looks like a binary file (or UTF-16 text without a byte order "
            "mark: save it as UTF-8)",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = _line_of_offset(data[: err.start].decode("utf-8", errors="replace"), err.start)
        raise ImportFileError(
            path, line, f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})"
        ) from None


def check_text(text: str, path: str) -> str:
    """``text`` without a byte order mark, refused when it holds control characters
    (other than tab, newline, carriage return) or lone surrogates.

    Raises:
        ImportFileError: naming the line of the first bad character.
    """
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_FILE_BYTES:
        raise _too_large(path, len(text.encode("utf-8", errors="surrogatepass")))
    text = text.removeprefix("\ufeff")
    bad = CONTROLS.search(text)
    if bad:
        char = bad.group()
        if char == "\x00":
            reason = "NUL character: this looks like a binary file"
        else:
            reason = f"control character U+{ord(char):04X} ({char!r}) in text"
        raise ImportFileError(path, _line_of_offset(text, bad.start()), reason)
    surrogate = _SURROGATE.search(text)
    if surrogate:
        raise ImportFileError(
            path, _line_of_offset(text, surrogate.start()), "lone surrogate: not valid Unicode text"
        )
    return text
