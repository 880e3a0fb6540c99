"""Categories of imported rules, from keyword patterns.

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
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from groove_core.model.learning import LearningCategory

CATEGORIES: tuple[str, ...] = tuple(
    c.value
    for c in (
        LearningCategory.HARNESS_KNOWLEDGE,
        LearningCategory.ERROR_RECOVERY,
        LearningCategory.SOLUTION,
        LearningCategory.TOOL_USAGE,
        LearningCategory.PREFERENCE,
        LearningCategory.CODE_PATTERN,
    )
)
"""All categories (:class:`~groove_core.model.learning.LearningCategory`), in tie-break
order."""

_CATEGORY_SCAN_CHARS = 2000  # categories are read from the start of long rules


_BOUNDARY_BEFORE, _BOUNDARY_AFTER = r"(?<![\w-])", r"(?![\w-])"


def _patterns(*words: str) -> tuple[re.Pattern[str], ...]:
    return tuple(
        re.compile(f"{_BOUNDARY_BEFORE}{w}{_BOUNDARY_AFTER}", re.IGNORECASE) for w in words
    )


# Words that describe rule files themselves ("Cursor rules for ...", "System prompt"):
# they count in a rule's text but not in its heading.
_TEXT_ONLY = (
    r"(ai )?assistants?",
    r"the ai",
    r"claude",
    r"cursor",
    r"copilot",
    r"gemini",
    r"llms?",
    r"prompts?",
)


_CATEGORY_PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    "harness_knowledge": _patterns(
        r"you are",
        r"you're",
        r"as an ai",
        r"ask(s|ed|ing)?",
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
        *_TEXT_ONLY,
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
    best, best_score = LearningCategory.CODE_PATTERN.value, 0
    for category, t, h in zip(CATEGORIES, in_text, in_heading, strict=True):
        score = 2 * t + h
        if score > best_score:
            best, best_score = category, score
    return best
