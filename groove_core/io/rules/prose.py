"""What, in the text of a rule file, is a rule: heuristics about rules, not about Markdown.

markdown-it-py gives the blocks (see :mod:`.blocks`); this module judges the lines and
sentences inside them. Rule files are often not Markdown at heart: ``.cursorrules`` files
are plain text with one statement per line, or pseudo-JavaScript (``// comment`` lines,
arrays of quoted rules, code pasted without a fence), so a paragraph is read line by line:

- **Line kinds.** A ``//`` comment is read as text. A quoted string in a list
  (``"Use X",``) is a rule. A line that looks like code (an assignment or declaration,
  SQL, a call, JSX, closing brackets, a path of a folder tree, an indented line under a
  code line) is code. A line with no letter or digit (``═══``, ``];``) separates units.
- **Units.** Consecutive text lines are one unit when the text was hard-wrapped: the next
  line starts in lower case, or the line ends in ``,`` ``(`` ``-`` ``/`` ``&`` ``→`` or a
  word that cannot end a sentence (``the``, ``of``, ``and``, ...). Otherwise each line is
  a statement of its own (files that stack one rule per line).
- **Titles.** A unit in Title Case, or only bold, or - alone or first in its paragraph - short
  (<= 5 words) with no final ``.`` ``!`` ``?`` and not opening an instruction, is a
  title: the context of what follows.
- **Lead-ins.** A unit ending with ``:`` announces what follows. It is only context when
  it points at it (``these``, ``the following``, ``below``, ``here are``, ``e.g.``), is a
  purpose clause (``To check ...:``) or a bare condition (``After merge to main:``), or
  ends mid-phrase (``based on:``, ``including:``, ``verify:``);
  a caption when code follows and it is not an instruction; otherwise a rule itself.
  "Follow these rules" sentences, and sentences about the file itself ("This document
  outlines ..."), are not rules either.
- **Sentences.** A unit is split before each sentence that opens an instruction (an
  imperative verb, ``Always``/``Never``/``Don't``/``Avoid``/``Only``, a condition such as
  ``When``/``If`` ...); other sentences stay with the instruction they explain.
- **Back references.** A unit that starts with ``This``, ``It``, ``These``, ``Instead``,
  ``Example:`` ... belongs to the rule before it.
- **Actionable.** A rule has at least :data:`MIN_WORDS` words once links and template
  placeholders (``[your project]``, ``{{name}}``, ``<id>``) are taken out (a CJK ideograph
  or kana counts as one word).

Text is never rewritten beyond whitespace: negations (``never``, ``don't``, ``avoid``)
and Markdown emphasis stay as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from markdown_it import MarkdownIt

MIN_WORDS = 3
MAX_DESCRIPTION_CHARS = 120
MAX_CONTEXT_CHARS = 80
_MIN_SPLIT = 5  # words: a shorter instruction ("Avoid classes.") stays with its sentence


def _wordlist(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: First words that open an instruction (lower case; the imperative mood of rule files).
DIRECTIVES = _wordlist(
    """
    act adapt add adhere adjust adopt aim align allow always analyze analyse annotate apply
    ask assert assign assume audit automate avoid batch be begin benchmark bind break build
    bump bundle cache call catch centralize check choose clarify clean close collect
    combine comment commit compose
    configure confirm consider consolidate construct convert copy create customize debounce
    declare default define delegate delete deploy describe design detect develop disable
    display do document don't dont double-check draw drop embrace emit employ enable
    encapsulate encourage enforce ensure escape establish evaluate explain export expose
    extend extract favor favour fetch follow focus format generate give group guard handle
    hide identify ignore implement import include incorporate index initialize inject install
    integrate isolate keep label leave let leverage limit load lock log maintain make
    manage map mark match measure memoize merge migrate minimize mirror mock monitor move
    name never normalize note offer omit only opt optimize organize output paginate parallelize
    parse pass persist pick pin place plan point prefer prefix prepare present preserve
    prevent print prioritize prioritise profile promote propose protect provide prune put
    raise read rebuild recommend reduce refactor refer reference register rely remember
    remove rename render reply report request require reserve reset resolve respect respond
    restrict retry return reuse review rotate run sanitize save scope search see select
    separate serve set share show simplify skip sort specify split stage start state stay
    stick store strive structure stub submit suggest summarize support surface switch take
    tell test think throw track train transform treat trigger try type update upgrade use
    utilize validate verify wait wrap write
    """
)
#: Sentence openers that state a condition or a prohibition (also open an instruction).
_CONDITIONS = _wordlist(
    "after before if once unless when whenever while no please whatever wherever hard-code"
)
_STRONG = re.compile(r"^(?:always|never|don'?t|do not|avoid|must|no)\b", re.IGNORECASE)
#: Words a hard-wrapped line can end on but a sentence cannot.
_DANGLING = _wordlist(
    """a an the and or nor but of to in on at by for from with without into onto via as
    than that which who whose whether your our their its my this these those is are be
    was were has have can could should would will may might must not such both either
    each every any all very more most less least e.g. i.e."""
)
_SMALL_WORDS = _wordlist("a an the and or nor of to in on at by for from with via vs vs. as &")
_BACKREF = re.compile(
    r"^[\"'(*_`]*(this|that|these|those|it|its|they|them|otherwise|also|instead|however|"
    r"but|then|so|e\.g\.|i\.e\.|for example|for instance|example|examples|why|because|"
    r"rationale|reason)\b",
    re.IGNORECASE,
)
_POINTER = re.compile(
    r"\b(these|the following|following|below|as follows|here are|here is|here's|"
    r"e\.g\.|for example|for instance|examples?|like this|this structure|this format)\b",
    re.IGNORECASE,
)
_META = re.compile(
    r"^(?:please\s+)?(?:follow|apply|adhere to|observe|obey|respect|read|use|consider)\s+"
    r"(?:all\s+(?:of\s+)?)?(?:these|the following|the\s+\w+\s+below|the\s+(?:rules|guidelines|"
    r"instructions)\s+below)\b",
    re.IGNORECASE,
)
_PURPOSE = re.compile(r"^[\"'(*_`]*(to|in order to|for|when|while)\s", re.IGNORECASE)
_ENDS_MID_PHRASE = re.compile(
    r"\b(on|of|for|to|with|by|in|from|about|including|include|includes|like|such as|"
    r"following|these|are|is|as|via|verify|check|consider|ensure|note|remember|cover)\s*$",
    re.IGNORECASE,
)
_SELF_REFERENCE = re.compile(
    r"^(?:use\s+)?(?:this|these)\s+(?:rules?|document|file|guide|prompt|instructions|"
    r"guidelines)\b",
    re.IGNORECASE,
)

_WORD = re.compile(r"\w", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_BARE_URL = re.compile(r"https?://\S+|www\.\S+")  # CommonMark links them only in <...>
_LINK_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+")
_INLINE = MarkdownIt("commonmark")
_PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}|\[[^\]]*\](?!\()|<[^<>\s][^<>]*>")
_SENTENCE_END = re.compile(
    r"(?<=[.!?])[\"')\]*_`]*\s+(?=[\"'(\[*_`]*[A-Z0-9\u00c0-\u024f\u0370-\u1fff\u3000-\uffff])"
    r"|(?<=[。！？])\s*"
)
_ABBREVIATIONS = frozenset(
    {"e.g.", "i.e.", "etc.", "vs.", "cf.", "mr.", "mrs.", "ms.", "dr.", "no.", "approx."}
)
_TERMINAL = (".", "!", "?", "。", "！", "？")
_LEADING_MARKUP = re.compile(r"^(?:[\"'(\[*_`>#~]+|\d{1,3}[.)]\s+)+")
_BOLD_LABEL = re.compile(r"^\*\*[^*]{1,60}\*\*\s*:?\s*|^[\w ./-]{1,40}:\s+(?=\S)")

# -------------------------------------------------------------------------------- lines

_QUOTED = re.compile(
    r"""^(?:-\s+)?(?:"(?P<d>[^"]*[A-Za-z][^"]*)"|'(?P<s>[^']*[A-Za-z][^']*)')\s*,?$"""
)
_COMMENT = re.compile(r"^//+\s?")
_STRAY_MARKER = re.compile(r"^(?:[-*+•]|\d{1,3}[.)])\s+")  # a list item Markdown did not see
_OPEN_FENCE = re.compile(r"\s*`{3,}\w*\s*$")  # "For example, ```ts": the code follows
_COPY_BUTTON = re.compile(r"^[a-z]+Copy$")  # "svelteCopy": a web page's copy button
_DEF = re.compile(r"^(?:async\s+)?(?:def|function|fn|func)\s+\w+\s*\(")
_DECLARATION = re.compile(
    r"^(?:const|let|var|function|import|export|return|def|class|interface|public|private|"
    r"protected|package|fn|func|async|await|from|struct|enum|impl|type)\b.*"
    r"(?:[=({;\[`:]|=>|\bimport\b.*)\s*$"
)
_ASSIGNMENT = re.compile(r"^[A-Za-z_$][\w$.\[\]\"']*\s*(?::=|[-+*/|&]?=(?!=)|=>)\s*\S")
_SQL = re.compile(
    r"^(?:SELECT|FROM|WHERE|CREATE|INSERT|UPDATE|DELETE|ALTER|DROP|WITH|JOIN|LEFT JOIN|"
    r"INNER JOIN|GROUP BY|ORDER BY|LIMIT|VALUES|UNION|GRANT|MERGE|RETURNS|LANGUAGE|"
    r"DECLARE|CALL|COPY INTO|USING)\b"
)
_CALL = re.compile(r"^[A-Za-z_$][\w$.]*\(.*\)\s*[;,]?\s*$|^\.\w+\(")
_MARKUP_LINE = re.compile(
    r"^</?[A-Za-z][\w.-]*(?:\s[^>]*)?/?>|^<>|^\{[\"'\w%{]|^\[[\"'{\[]|^@\w|^\"[^\"]+\"\s*:"
)
_OPTIONS = re.compile(r"(?:^|\s)--?[A-Za-z][\w-]*")  # command-line options
_CLOSERS = re.compile(r"^[\]})>`'\";,.]+\s*$")
_PATH = re.compile(r"^[\w.@~-]*[/.][\w./@~-]*$")
_YAML = re.compile(r"^[a-z_][\w-]*:(?:\s+\S+)?$")
_PY_BLOCK = re.compile(r"^(?:if|for|while|elif|else|try|except|finally|with|def|class)\b.*:\s*$")
_CODE_CHARS = re.compile(r"[{}\[\]();=<>]")
_INLINE_CODE = re.compile(r"`[^`]*`")

LineKind = Literal["text", "code", "gap", "row"]
_ROW = re.compile(r"^\|.*\|.*$")
_ROW_SEPARATOR = re.compile(r"^\|?[\s:|-]*-[\s:|-]*$")


def line_kind(line: str) -> tuple[LineKind, str]:
    """Classify one line of a paragraph: ``("text", text)``, ``("code", line)``,
    ``("row", cells)`` for a table row Markdown did not see as a table (its cells joined
    by ``" | "``), or ``("gap", "")`` for a line with no letter or digit. A ``//`` marker
    and a list marker Markdown did not see (an over-indented item) are removed, and a
    quoted list string is unquoted."""
    s = _COMMENT.sub("", line.strip()).strip()
    s = _OPEN_FENCE.sub("", _STRAY_MARKER.sub("", s))
    if not _WORD.search(s) or _COPY_BUTTON.match(s) or _ROW_SEPARATOR.match(s):
        return "gap", ""
    if _ROW.match(s):
        return "row", " | ".join(c.strip() for c in s.strip("|").split("|") if c.strip())
    quoted = _QUOTED.match(s)
    if quoted:
        s = _STRAY_MARKER.sub("", (quoted["d"] or quoted["s"]).strip())
    return ("code", s) if is_code(s) else ("text", s)


def is_code(text: str) -> bool:
    """True when a line outside a code fence looks like code rather than prose."""
    s = text.strip()
    rest = re.sub(r"^[\w\s/.-]{1,30}:\s+", "", s)  # "AI_AGG: SELECT ..." -> "SELECT ..."
    for candidate in {s, rest}:
        if (
            _DECLARATION.match(candidate)
            or _DEF.match(candidate)
            or _ASSIGNMENT.match(candidate)
            or _SQL.match(candidate)
            or _CALL.match(candidate)
            or _MARKUP_LINE.match(candidate)
            or _CLOSERS.match(candidate)
            or _PY_BLOCK.match(candidate)
            or _YAML.match(candidate)
        ):
            return True
    if (" " not in s and _PATH.match(s)) or s[:1] in tuple("├└│┌┐┘┬┴┼─"):
        return True  # a folder tree
    bare = _INLINE_CODE.sub("", s)
    if re.match(r"^\S+\s+--?[A-Za-z]", bare) and len(_OPTIONS.findall(bare)) >= 2:
        return True  # a command with its options
    prose = _INLINE_CODE.sub("", s).replace(" ", "")
    if len(prose) < 12:
        return False  # mostly inline code: Markdown the author meant as text
    dense = len(_CODE_CHARS.findall(prose)) / len(prose)
    letters = sum(c.isalpha() for c in prose) / len(prose)
    return dense > 0.15 and letters < 0.5


# ---------------------------------------------------------------------------- words


def word_count(text: str) -> int:
    """Words in ``text``; a CJK ideograph or kana character counts as one word."""
    cjk = len(_CJK.findall(text))
    return len(_CJK.sub(" ", text).split()) + cjk


def _core(text: str) -> str:
    """``text`` without leading markup, list numbering and a ``**Label**:`` prefix."""
    s = _LEADING_MARKUP.sub("", text.strip())
    labelled = _BOLD_LABEL.sub("", s, count=1) if text.lstrip().startswith("**") else s
    return _LEADING_MARKUP.sub("", labelled)


def _first_word(text: str) -> str:
    match = re.match(r"[A-Za-z][A-Za-z'’-]*", _core(text))
    return match.group().lower().replace("’", "'") if match else ""


def opens_instruction(text: str) -> bool:
    """True when ``text`` starts like an instruction: an imperative verb, a prohibition
    (``Never``, ``Don't``, ``Avoid``, ``No``), ``Always``/``Only``, or a condition
    (``When``, ``If``, ``Before`` ...)."""
    core = _core(text)
    if _STRONG.match(core):
        return True
    word = _first_word(text)
    return word in DIRECTIVES or word in _CONDITIONS


def is_title_case(text: str) -> bool:
    """Every word with a letter starts in upper case, except small words (``and``,
    ``of``, ``for`` ...)."""
    tokens = [w.strip("()[]*_`\"'.,:;!?/") for w in text.split()]
    words = [w for w in tokens if w and w[0].isalpha()]
    if not words or 3 * len(words) < 2 * len(tokens):
        return False
    return all(w[0].isupper() or w.lower() in _SMALL_WORDS for w in words)


def is_title(text: str, alone: bool = True) -> bool:
    """True for a line that names a section instead of saying something (see module).
    A short line that is not in Title Case counts only when ``alone`` (alone in its
    paragraph, or its first line): among other statements it is one of them."""
    s = text.strip().rstrip(":：").strip()
    if not s or s.endswith(_TERMINAL) or "`" in s or re.search(r"\w:\s", s):
        return False  # "Node.js: 18.x" is a fact, not a title
    if not _WORD.search(_PLACEHOLDER.sub(" ", s)) or without_links(s) != s:
        return False  # a template placeholder or a link names no section
    if re.fullmatch(r"\*\*[^*]+\*\*:?|__[^_]+__:?", s):
        return True
    bare = s.strip("*_# ")
    if _STRONG.match(bare) or word_count(bare) > 12:
        return False
    if is_title_case(bare):
        return True
    short = word_count(bare) <= 5 and not opens_instruction(bare) and not _has_verb_mark(bare)
    return alone and short


def _has_verb_mark(text: str) -> bool:
    """A cheap sign of a clause: a modal or a form of *be*/*have* among the words."""
    return bool(
        re.search(
            r"\b(is|are|was|were|be|has|have|should|must|can|will|may|need|needs|means)\b",
            text,
            re.IGNORECASE,
        )
    )


def starts_with_back_reference(text: str) -> bool:
    """True when ``text`` only makes sense after the statement before it."""
    return bool(_BACKREF.match(text.strip()))


def without_links(text: str) -> str:
    """``text`` without its links, images and URLs (Markdown inline syntax read by
    markdown-it-py; bare URLs, which CommonMark leaves as text, by pattern)."""
    tokens = _INLINE.parseInline(text)
    children = (tokens[0].children or []) if tokens else []
    if not any(t.type in ("link_open", "image") for t in children):
        return _BARE_URL.sub(" ", text)
    out: list[str] = []
    depth = 0
    for token in children:
        if token.type == "link_open":
            depth += 1
        elif token.type == "link_close":
            depth -= 1
        elif token.type == "code_inline" and not depth:
            out.append(f"{token.markup}{token.content}{token.markup}")
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif token.type in ("text", "html_inline") and not depth:
            out.append(token.content)
        elif token.type.endswith(("_open", "_close")) and not depth:
            out.append(token.markup)
    return _BARE_URL.sub(" ", "".join(out))


def is_actionable(text: str) -> bool:
    """At least :data:`MIN_WORDS` words once links and placeholders are removed, and not
    only a pointer to a link (``Full rules at: <url>``)."""
    if _LINK_DEF.match(text):
        return False
    unlinked = without_links(text)
    if unlinked != text and unlinked.rstrip().endswith((":", "：")):
        return False
    rest = _PLACEHOLDER.sub(" ", unlinked)
    return bool(_WORD.search(rest)) and word_count(rest) >= MIN_WORDS


# ------------------------------------------------------------------------- lead-ins

LeadIn = Literal["title", "context", "caption", "rule"]


def lead_in_kind(text: str, code_follows: bool = False) -> LeadIn:
    """What a unit ending with ``:`` is (see module): ``"title"`` and ``"context"`` are
    only context for what follows, a ``"caption"`` is dropped, a ``"rule"`` is kept."""
    body = text.strip().rstrip(":：").strip()
    if is_title(body) or word_count(body) <= 2:
        return "title"
    if _POINTER.search(body) or _ENDS_MID_PHRASE.search(body) or is_meta(body):
        return "context"
    if _PURPOSE.match(body) and not opens_instruction(body.split(",", 1)[-1]):
        return "context"
    if _first_word(body) in _CONDITIONS and "," not in body:
        return "context"  # "After merge to main:" - the list holds the instructions
    if code_follows and not opens_instruction(body):
        return "caption"
    return "rule"


def is_meta(text: str) -> bool:
    """True for a sentence that only points at the rules around it ("Follow these
    rules") or talks about the file itself ("This document outlines ...")."""
    core = _core(text)
    return bool(_META.match(core) or _SELF_REFERENCE.match(core))


_EXAMPLE = re.compile(
    r"^[\"'(*_`]*(?:(?:this|an|the)\s+)?(for example|for instance|e\.g\.|examples?)\b"
    r"|\bexamples?\W*$",
    re.IGNORECASE,
)


def is_example_pointer(text: str) -> bool:
    """True for ``Example:``, ``For example:``, ``e.g.``, ``This example ...``, ``Code
    examples``: what follows illustrates a rule instead of stating one."""
    return bool(_EXAMPLE.search(text.strip()))


def context_label(text: str) -> str | None:
    """``text`` as a context label (emphasis and a final ``:`` removed), or ``None`` when
    it is longer than :data:`MAX_CONTEXT_CHARS`."""
    label = " ".join(text.split()).rstrip(":：").strip().strip("*_ ").rstrip(":：").strip()
    return label if label and len(label) <= MAX_CONTEXT_CHARS else None


# ---------------------------------------------------------------------------- units


@dataclass
class Unit:
    """A statement of a paragraph: ``text`` from line ``line`` to ``end_line`` (1-based);
    ``starts`` holds ``(offset in text, line)`` for each source line joined into it."""

    text: str
    line: int
    end_line: int
    kind: LineKind = "text"
    starts: list[tuple[int, int]] = field(default_factory=list)

    def line_at(self, offset: int) -> int:
        """The source line of the character at ``offset`` of ``text``."""
        found = self.line
        for start, line in self.starts:
            if start > offset:
                break
            found = line
        return found


def _continues(prev: str, nxt: str) -> bool:
    """True when ``nxt`` carries on the hard-wrapped line ``prev``."""
    first = nxt.lstrip()[:1]
    if first.islower() or first == "(":
        return True
    tail = prev.rstrip()
    if tail.endswith((",", "(", "-", "–", "—", "&", "→", "+", "|")):
        return True
    last = tail.rsplit(None, 1)[-1].lower() if tail else ""
    return last in _DANGLING


def units(lines: list[tuple[int, str]]) -> list[Unit]:
    """Split a paragraph's ``(line number, line)`` pairs into text and code units (see
    module): code lines, and lines indented under a code line, make code units."""
    out: list[Unit] = []
    code_indent: int | None = None
    for number, raw in lines:
        kind, text = line_kind(raw)
        indent = len(raw) - len(raw.lstrip())
        quoted = _QUOTED.match(_STRAY_MARKER.sub("", raw.strip()))
        if kind == "text" and code_indent is not None and indent > code_indent and not quoted:
            kind = "code"  # under a code line, unless a quoted rule in a data structure
        if kind == "gap":
            code_indent = None
            out.append(Unit("", number, number, "gap"))
            continue
        if kind != "code":
            code_indent = None
        elif code_indent is None:
            code_indent = indent
        last = out[-1] if out else None
        joins = kind == "code" or (kind == "text" and last and _continues(last.text, text))
        if last and last.kind == kind and joins:
            last.starts.append((len(last.text) + 1, number))
            last.text = f"{last.text}\n{text}" if kind == "code" else f"{last.text} {text}"
            last.end_line = number
        else:
            out.append(Unit(text, number, number, kind, [(0, number)]))
    return [u for u in out if u.kind != "gap"]


# ------------------------------------------------------------------------ sentences


def sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the sentences of ``text``."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() >= len(text):
            break
        before = text[start : match.start()].rsplit(None, 1)
        if (before and before[-1].lower() in _ABBREVIATIONS) or match.start() <= start:
            continue
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def split_instructions(text: str) -> list[tuple[int, str]]:
    """Cut ``text`` before every sentence that opens an instruction; the other sentences
    stay with the one before. Returns ``(offset, piece)`` pairs."""
    pieces: list[tuple[int, str]] = []
    for a, b in sentences(text):
        sentence = text[a:b]
        if pieces and not (opens_instruction(sentence) and word_count(sentence) >= _MIN_SPLIT):
            offset, piece = pieces[-1]
            pieces[-1] = (offset, text[offset:b])
        else:
            pieces.append((a, sentence))
    return pieces


# --------------------------------------------------------------------- descriptions


def plain(text: str) -> str:
    """``text`` as plain text: emphasis markers removed, links reduced to their text;
    inline code keeps its backticks."""
    tokens = _INLINE.parseInline(text)
    out: list[str] = []
    for token in tokens[0].children or [] if tokens else []:
        if token.type in ("text", "html_inline"):
            out.append(token.content)
        elif token.type == "code_inline":
            out.append(f"`{token.content}`")
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif token.type == "image":
            out.append(token.content)
    return " ".join("".join(out).split())


def summary(text: str) -> str:
    """A one-line summary: the rule as plain text when it fits in
    :data:`MAX_DESCRIPTION_CHARS`, else its first sentence, cut at a word with ``…``."""
    flat = plain(text) or " ".join(text.split())
    if len(flat) <= MAX_DESCRIPTION_CHARS:
        return flat
    spans = sentences(flat)
    first = flat[spans[0][0] : spans[0][1]].strip() if spans else flat
    if len(first) <= MAX_DESCRIPTION_CHARS:
        return first
    cut = first[: MAX_DESCRIPTION_CHARS - 1]
    if " " in cut[MAX_DESCRIPTION_CHARS // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"
