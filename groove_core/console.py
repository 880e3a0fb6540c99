"""The command line's two consoles (stdout and stderr), which never pass a control
character of printed text to the terminal.

Learnings, proposals, principals and file names come from other people and from other
programs writing the same database: an escape sequence among them could clear the
screen, hide the rest of a warning, plant a hyperlink or, with a carriage return,
overwrite a line of groove's own output. Every renderable printed on these consoles is
drawn first, then each text segment has its control, format and separator characters
(Unicode categories Cc, Cf, Zl and Zp: ESC, CR, the C1 controls, bidirectional
overrides; not new lines or tabs) written as Python escapes (``\\x1b``). Rich's own
control segments (cursor moves of a progress display, styles) are kept."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence

from rich.console import Console, ConsoleOptions, RenderableType, RenderHook, RenderResult
from rich.segment import Segment

_KEPT = "\n\t"
#: Unicode categories of the characters a terminal may act on: controls (ESC, CR, C1),
#: format characters (bidirectional overrides) and the line and paragraph separators.
_ACTING = ("Cc", "Cf", "Zl", "Zp")


def acts_on_terminal(c: str) -> bool:
    """Whether a terminal may act on the character ``c`` (categories :data:`_ACTING`),
    new line and tab excepted: the one definition for the consoles and ``--json``."""
    return c not in _KEPT and unicodedata.category(c) in _ACTING


def shown(text: str) -> str:
    """``text`` with every character a terminal may act on (:func:`acts_on_terminal`)
    written as its Python escape (``"a\\x1b[2Jb"`` -> ``"a\\\\x1b[2Jb"``): what a terminal
    may be given of text groove did not write."""
    if text.isprintable():
        return text
    return "".join(repr(c)[1:-1] if acts_on_terminal(c) else c for c in text)


def shown_json(text: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with every character a
    terminal may act on written as a JSON escape (``\\u202e``; a surrogate pair above
    U+FFFF): still the same JSON, safe to print. Lines that are all printable pass as
    they are."""
    return "\n".join(
        line
        if line.isprintable()
        else "".join(json.dumps(c)[1:-1] if acts_on_terminal(c) else c for c in line)
        for line in text.split("\n")
    )


class _Shown:
    """A renderable drawn as ``inner`` with its text segments passed through :func:`shown`."""

    def __init__(self, inner: RenderableType):
        self.inner = inner

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.inner, options):
            if segment.control or segment.text.isprintable():
                yield segment
            else:
                yield Segment(shown(segment.text), segment.style)


class _ShowControls(RenderHook):
    """Wraps everything a console prints in :class:`_Shown`."""

    def process_renderables(self, renderables: Sequence[RenderableType]) -> Iterable:
        return [_Shown(r) for r in renderables]


def _console(**options) -> Console:
    console = Console(soft_wrap=True, markup=False, emoji=False, **options)
    console.push_render_hook(_ShowControls())
    return console


#: Standard output and standard error of the command line. Markup is off (messages also
#: hold text users wrote, which may contain "[/]" or ":smile:"): a line that styles passes
#: markup=True and escape()s what it interpolates.
out = _console()
err = _console(stderr=True)

__all__ = ["acts_on_terminal", "err", "out", "shown", "shown_json"]
