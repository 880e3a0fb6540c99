"""Markdown block structure of a rule file, read with markdown-it-py, into rule candidates.

markdown-it-py (CommonMark plus GFM tables) gives the blocks and their line ranges
(``Token.map``); :mod:`.prose` decides which text in them is a rule. Per block:

- **Headings** (ATX and setext) are the context path (``"Testing > Unit tests"``). A
  heading that opens an instruction and is followed only by code (``### Always pass
  how= to join`` then a fence) is a rule itself, with the code attached.
- **Paragraphs** are read line by line (:func:`.prose.units`): titles become context,
  lead-ins are context for the list that follows, the rest are rules, split before each
  sentence that opens an instruction.
- **List items** are one rule each (all their paragraphs joined, a ``[ ]`` / ``[x]``
  checkbox removed); an item starting with a back reference or ``Example:`` joins the
  rule before it. A short parent item (<= 80 chars) is the context of its children; a
  title or a lead-in parent is only context. When a lead-in that is only context
  (``Adapt the templates based on:``) is followed by a list of short phrases that are
  not instructions, lead-in and phrases make one rule. Lists under an example
  (``For example:``, a heading ``Examples``) are not rules; their items join the insight
  of the rule before them.
- **Tables**: each body row is a rule, its cells labelled by the header
  (``"Do: use X | Don't: use Y"``).
- **Code** (fenced or indented) is never a rule. It joins the ``insight`` of the rule
  before it in the same section (at most :data:`MAX_CODE_CHARS` characters per rule).
- **Skipped**: HTML blocks, horizontal rules, link-only lines; lines that only hold an
  XML-like tag (``<instructions>``, ``</rules>``: prompt files wrap sections in them) are
  blanked before parsing so the Markdown inside is read, and no-break spaces that indent
  a line become spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from groove_core.io.rules import prose

MAX_CODE_CHARS = 2000
_MAX_PHRASE_WORDS = 15

# block structure only: the text of a block is read by .prose, so inline parsing is skipped
_MD = MarkdownIt("commonmark", {"html": True}).enable("table").disable("inline")
# (not script, style, pre, textarea: their HTML blocks run until the closing tag)
_TAG_LINE = re.compile(r"^\s*</?(?!(?:script|style|pre|textarea)\b)[A-Za-z][\w .:-]{0,60}>\s*$")
_CHECKBOX = re.compile(r"^\[[ xX]\][ \t]+")


@dataclass
class Candidate:
    """A rule before categorisation: its text, 1-based first and last line, the context
    path (headings, lead-ins, parent items) and attached code or examples."""

    text: str
    line: int
    end_line: int
    context: list[str]
    extras: list[str] = field(default_factory=list)
    code_chars: int = 0

    def attach_code(self, info: str, code: str) -> None:
        """Append a fenced block to the insight, within :data:`MAX_CODE_CHARS`."""
        room = MAX_CODE_CHARS - self.code_chars
        if room <= 0 or not code.strip():
            return
        block = f"```{info.strip()}\n{code[:room].rstrip()}\n```"
        if len(code) > room:
            block += "\n… (code truncated)"
        self.code_chars += min(len(code), room)
        self.extras.append(block)


def _inline_text(node: SyntaxTreeNode) -> str:
    return node.children[0].content if node.children else ""


class Reader:
    """Walks the block tree of one file body and collects :class:`Candidate` rules."""

    def __init__(self, offset: int, root_context: str) -> None:
        self.offset = offset  # file line index of the body's first line
        self.root_context = root_context
        self.headings: list[tuple[int, str, int]] = []  # (level, text, line)
        self.title: str | None = None  # a plain-text title under the last heading
        self.heading_used = True
        self.candidates: list[Candidate] = []
        self.attach_to: Candidate | None = None
        self.lead_in: tuple[str, str, int] | None = None  # (kind, text, line)

    # ---- entry point
    def read(self, body: str) -> list[Candidate]:
        """Parse ``body`` and return its candidates in file order."""
        lines = [_clean_line(line) for line in body.split("\n")]
        tree = SyntaxTreeNode(_MD.parse("\n".join(lines)))
        self._blocks(tree.children, [])
        return sorted(self.candidates, key=lambda c: c.line)

    def _blocks(self, nodes: list[SyntaxTreeNode], context: list[str]) -> None:
        for i, node in enumerate(nodes):
            nxt = nodes[i + 1] if i + 1 < len(nodes) else None
            if not _is_list(node):
                self.lead_in = None  # a lead-in only introduces the list right after it
            handler = getattr(self, f"_on_{node.type}", None)
            if handler is not None:  # HTML blocks have none: skipped
                handler(node, context, nxt)

    # ---- context
    def _line(self, node: SyntaxTreeNode) -> int:
        """The 1-based file line where ``node`` starts."""
        assert node.map is not None
        return self.offset + node.map[0] + 1

    def _path(self, extra: list[str]) -> list[str]:
        parts = [text for _, text, _ in self.headings]
        if self.title:
            parts.append(self.title)
        if not parts and self.root_context:
            parts = [self.root_context]
        return [p for p in parts + extra if p]

    def _emit(self, text: str, line: int, end_line: int, context: list[str]) -> Candidate | None:
        text = " ".join(text.split())
        path = self._path(context)
        if not prose.is_actionable(text) or any(prose.is_example_pointer(p) for p in path):
            return None  # a fragment, or text of a worked example
        cand = Candidate(text, line, end_line, path)
        self.candidates.append(cand)
        self.attach_to = cand
        self.heading_used = True
        return cand

    # ---- headings, rules, HTML
    def _on_heading(self, node: SyntaxTreeNode, context: list[str], nxt) -> None:
        level = int(node.tag[1])
        text = " ".join(_inline_text(node).split()).strip("# ")
        self.headings = [h for h in self.headings if h[0] < level]
        if text:
            self.headings.append((level, text, self._line(node)))
        self.title = None
        self.attach_to = None
        self.heading_used = False

    def _on_hr(self, node: SyntaxTreeNode, context: list[str], nxt) -> None:
        self.attach_to = None

    def _on_blockquote(self, node: SyntaxTreeNode, context: list[str], nxt) -> None:
        self._blocks(node.children, context)

    # ---- code
    def _on_fence(self, node: SyntaxTreeNode, context: list[str], nxt) -> None:
        if self.attach_to is None and not self.heading_used and self.headings:
            level, text, line = self.headings[-1]
            if prose.opens_instruction(text) and not prose.is_title_case(text):
                self.headings.pop()
                self._emit(text, line, line, context)
                self.headings.append((level, text, line))
        if self.attach_to is not None:
            self.attach_to.attach_code(node.info, node.content)

    _on_code_block = _on_fence

    # ---- tables
    def _on_table(self, node: SyntaxTreeNode, context: list[str], nxt) -> None:
        header: list[str] = []
        for section in node.children:
            for row in section.children:
                cells = [" ".join(_inline_text(c).split()) for c in row.children]
                if section.type == "thead":
                    header = cells
                    continue
                if len(header) == len(cells):
                    parts = [f"{h}: {c}" if h else c for h, c in zip(header, cells, strict=True)]
                    parts = [p for p, c in zip(parts, cells, strict=True) if c]
                else:
                    parts = [c for c in cells if c]
                self._emit(" | ".join(parts), self._line(row), self._line(row), context)

    # ---- paragraphs
    def _on_paragraph(self, node: SyntaxTreeNode, context: list[str], nxt) -> None:
        units = _units(node, self._line(node))
        code_follows = nxt is not None and nxt.type in ("fence", "code_block")
        self._units(units, context, code_follows, _is_list(nxt))

    def _units(
        self, units: list[prose.Unit], context: list[str], code_follows: bool, list_follows: bool
    ) -> None:
        """Read the units of one paragraph; a run of titles is a list of names, not context."""
        alone = sum(u.kind == "text" for u in units) == 1
        titles = [
            u.kind == "text" and prose.is_title(u.text, alone or i == 0)
            for i, u in enumerate(units)
        ]
        for i, unit in enumerate(units):
            last = i == len(units) - 1
            if titles[i]:
                if not (i > 0 and titles[i - 1]) and not (not last and titles[i + 1]):
                    self._set_title(unit.text)
                continue
            follows_code = code_follows if last else units[i + 1].kind == "code"
            self._unit(unit, context, follows_code, last and list_follows)

    def _unit(self, unit: prose.Unit, context: list[str], code_follows: bool, list_follows: bool):
        if unit.kind == "code":
            if self.attach_to is not None and self.attach_to.end_line >= unit.line - 1:
                self.attach_to.attach_code("", unit.text)
            return
        text = unit.text
        if unit.kind == "row":
            self._emit(text, unit.line, unit.end_line, context)
            return
        if text.rstrip().endswith((":", "：")):
            spans = prose.sentences(text)
            if len(spans) > 1:  # rules, then a lead-in sentence
                self._sentences(text[: spans[-1][0]].rstrip(), unit, context)
            tail = text[spans[-1][0] :] if spans else text
            line = unit.line_at(len(text) - len(tail))
            if not self._lead_in(tail, line, code_follows, list_follows):
                return
            if len(spans) > 1:
                self._emit(tail, line, unit.end_line, context)
                return
        if prose.starts_with_back_reference(text) and self._glue(text, unit.line, unit.end_line):
            return
        self._sentences(text, unit, context)

    def _lead_in(self, text: str, line: int, code_follows: bool, list_follows: bool) -> bool:
        """Note a lead-in for the list after it; True when it is also a rule."""
        kind = prose.lead_in_kind(text, code_follows)
        if kind == "caption" or (kind == "title" and code_follows):
            self.attach_to = None  # the code it names is an example: no rule, no context
        elif list_follows:
            self.lead_in = (kind, text, line)
        elif kind == "title":
            self._set_title(text)
        return kind == "rule"

    def _set_title(self, text: str) -> None:
        self.title = prose.context_label(text.strip("*_ "))
        self.attach_to = None

    def _sentences(self, text: str, unit: prose.Unit, context: list[str]) -> None:
        for offset, piece in prose.split_instructions(text):
            if not prose.is_meta(piece):
                self._emit(piece, unit.line_at(offset), unit.end_line, context)

    def _glue(self, text: str, line: int, end_line: int) -> bool:
        """Append ``text`` to the last rule when it ends just before ``line`` (a blank
        line between is fine); True when done."""
        target = self.attach_to
        if target is None or line - target.end_line > 2:
            return False
        target.text = f"{target.text} {' '.join(text.split())}"
        target.end_line = max(target.end_line, end_line)
        return True

    def _examples(self, node: SyntaxTreeNode) -> None:
        """The items of an examples list join the insight of the rule before them."""
        if self.attach_to is None:
            return
        for item in node.children:
            head = _head(item)
            if head is not None:
                self.attach_to.extras.append(f"- {head.text}")
            for child in item.children:
                if child.type in ("fence", "code_block"):
                    self.attach_to.attach_code(child.info, child.content)

    # ---- lists
    def _on_bullet_list(self, node: SyntaxTreeNode, context: list[str], nxt) -> None:
        lead_in, self.lead_in = self.lead_in, None
        if lead_in is not None:
            kind, text, line = lead_in
            if prose.is_example_pointer(text):
                self._examples(node)
                return
            if kind == "context" and _phrases(node):
                self._phrase_list(node, text, line, context)
                return
            label = prose.context_label(text)
            context = context + [label] if label else context
        for item in node.children:
            self._item(item, context)

    _on_ordered_list = _on_bullet_list

    def _phrase_list(self, node: SyntaxTreeNode, lead: str, line: int, context: list[str]):
        """A lead-in that is only context and the short phrases of its list: one rule."""
        heads = [_item_units(item, self.offset) for item in node.children]
        phrases = "; ".join(units[0].text for units in heads)
        self._emit(f"{lead} {phrases}", line, heads[-1][0].end_line, context)
        for units in heads:
            self._units(units[1:], context, False, False)

    def _item(self, item: SyntaxTreeNode, context: list[str]) -> None:
        units = _item_units(item, self.offset)
        blocks = item.children[len(_leading_paragraphs(item)) :]
        has_list = any(_is_list(c) for c in blocks)
        head = units[0] if units and units[0].kind == "text" else None
        text = head.text if head else ""
        if has_list and prose.is_example_pointer(text):
            for child in blocks:
                if _is_list(child):
                    self._examples(child)
            return
        nested = next((c for c in blocks if _is_list(c)), None)
        if head is not None and nested is not None and _lead_in_of_phrases(text, nested):
            self._phrase_list(nested, text, head.line, context)
            return
        cand = None
        if head is not None:
            glued = prose.starts_with_back_reference(text) and self._glue(
                text, head.line, head.end_line
            )
            cand = self.attach_to if glued else self._item_rule(head, context, has_list)
        label = prose.context_label(text) if has_list else None
        inner = context + [label] if label else context
        self._units(units[1:] if head else units, inner, False, False)
        for child in blocks:
            if child.type in ("fence", "code_block"):
                if cand is not None:
                    cand.attach_code(child.info, child.content)
                continue
            self._blocks([child], inner)
        if cand is not None:
            self.attach_to = cand

    def _item_rule(self, head: prose.Unit, context: list[str], has_list: bool) -> Candidate | None:
        text = head.text
        if text.rstrip().endswith((":", "：")) and len(prose.sentences(text)) == 1:
            if prose.lead_in_kind(text) != "rule":
                return None
        elif has_list and prose.is_title(text):
            return None
        return self._emit(text, head.line, head.end_line, context)


def _clean_line(line: str) -> str:
    """A tag-only line blanked; no-break spaces that indent a line (text pasted from a
    web page) made plain spaces so Markdown sees the indentation."""
    if _TAG_LINE.match(line):
        return ""
    indent = len(line) - len(line.lstrip(" \t\u00a0"))
    return line[:indent].replace("\u00a0", " ") + line[indent:]


def _is_list(node: SyntaxTreeNode | None) -> bool:
    return node is not None and node.type in ("bullet_list", "ordered_list")


def _units(node: SyntaxTreeNode, first_line: int) -> list[prose.Unit]:
    lines = _inline_text(node).split("\n")
    return prose.units([(first_line + i, line) for i, line in enumerate(lines)])


def _leading_paragraphs(item: SyntaxTreeNode) -> list[SyntaxTreeNode]:
    out = []
    for child in item.children:
        if child.type != "paragraph":
            break
        out.append(child)
    return out


def _item_units(item: SyntaxTreeNode, offset: int = 0) -> list[prose.Unit]:
    """The units of a list item's leading paragraphs (``offset``: file line index of the
    body's first line); the first unit loses its checkbox."""
    units: list[prose.Unit] = []
    for paragraph in _leading_paragraphs(item):
        assert paragraph.map is not None
        units.extend(_units(paragraph, offset + paragraph.map[0] + 1))
    if units and units[0].kind == "text":
        units[0].text = _CHECKBOX.sub("", units[0].text)
    return units


def _head(item: SyntaxTreeNode) -> prose.Unit | None:
    units = _item_units(item)
    return units[0] if units and units[0].kind == "text" else None


def _lead_in_of_phrases(text: str, nested: SyntaxTreeNode) -> bool:
    """An item ending with a lead-in that is only context, over a list of phrases."""
    if not text.rstrip().endswith((":", "：")):
        return False
    tail = text[prose.sentences(text)[-1][0] :] if prose.sentences(text) else text
    return prose.lead_in_kind(tail) == "context" and _phrases(nested)


def _phrases(node: SyntaxTreeNode) -> bool:
    """True when every item of a list opens with a short phrase, not an instruction."""
    for item in node.children:
        head = _head(item)
        if (
            head is None
            or any(c.type != "paragraph" for c in item.children)
            or prose.word_count(head.text) > _MAX_PHRASE_WORDS
            or prose.opens_instruction(head.text)
            or len(prose.sentences(head.text)) > 1
        ):
            return False
    return True
