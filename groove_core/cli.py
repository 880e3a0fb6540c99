"""The ``groove`` command line: setup, import, export, search, edit and the dashboard."""

from __future__ import annotations

import json
import os
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup
from typer.exceptions import TyperException

from groove_core.console import err, out, shown, shown_json
from groove_core.errors import DashboardAuthError, GrooveError
from groove_core.model.values import check_text
from groove_core.progress import Progress as GrooveProgress
from groove_core.progress import ProgressFn
from groove_core.serve import DashboardAuth
from groove_core.store.listing import SORTS
from groove_core.store.modes import DEFAULT_MODE, MODES


class _Commands(TyperGroup):
    """The command group, refusing arguments that are not valid UTF-8 before typer parses
    them: Python hands undecodable bytes over as lone surrogates (PEP 383), which no
    tier, file name in a learning's source or terminal can keep. NUL, which no real
    command line can carry (a C string ends there), is refused too."""

    def main(self, args=None, *rest, **kwargs):
        """click's entry point, after checking every argument."""
        argv = list(sys.argv[1:] if args is None else args)
        for position, arg in enumerate(argv, start=1):
            try:
                check_text(arg, f"argument {position}")
                if "\0" in arg:
                    raise GrooveError(f"argument {position} contains NUL (U+0000)")
            except GrooveError as error:
                err.print(
                    f"[bold red]error:[/] {escape(str(error))} ({escape(_undecoded(arg))}); "
                    "groove keeps text as UTF-8 without NUL: retype it, or rename the file",
                    markup=True,
                    highlight=False,
                )
                sys.exit(1)
        return super().main(argv, *rest, **kwargs)


def _undecoded(arg: str) -> str:
    """The argument as its original bytes (``b'caf\\xe9'``), shortened to 60 characters."""
    try:
        shown = repr(os.fsencode(arg))
    except UnicodeError:
        shown = ascii(arg)
    return shown if len(shown) <= 60 else shown[:57] + "..."


if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

app = typer.Typer(
    cls=_Commands,
    help="groove: the memory of an AI coding assistant (learnings in Cozo tiers).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _home_value(value: str | None) -> str | None:
    """``--home`` as given: an empty one is refused (it would mean the current folder)."""
    if value is not None and not value.strip():
        raise typer.BadParameter("give a folder (it was empty)")
    return value


HomeOpt = Annotated[
    str | None,
    typer.Option(
        "--home",
        help="groove home folder (default: $GROOVE_HOME or the platform data folder)",
        callback=_home_value,
    ),
]
TierOpt = Annotated[
    str,
    typer.Option(
        "--tier",
        help="tier: user, project (this project), project:<path>, enterprise:<org> or "
        "simulation:<name>",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
FlaggedOpt = Annotated[
    bool, typer.Option("--flagged", help="only learnings the content scan flagged")
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="why (kept with a proposal)")]
OverrideOpt = Annotated[
    str | None,
    typer.Option(
        "--override-reason",
        help="accept content the scan flagged (a curator's written reason, recorded)",
    ),
]


#: Search modes and sort orders as ``--mode`` / ``--sort`` choices
#: (docs/architecture.md#vocabulary).
Mode = StrEnum("Mode", [(m, m) for m in MODES])
DEFAULT_SEARCH_MODE = Mode(DEFAULT_MODE)


class OnConflict(StrEnum):
    fail = "fail"
    skip = "skip"
    replace = "replace"


Sort = StrEnum("Sort", [(s, s) for s in SORTS])


_state: dict = {}


@app.callback()
def main(home: HomeOpt = None) -> None:
    """Options that apply to every command (``--home`` may also follow the command)."""
    _use_home(home)


def _use_home(home: str | None) -> None:
    """Make ``home`` the groove home of this run (``--home`` before or after a command)."""
    if home is not None:
        os.environ["GROOVE_HOME"] = str(Path(home).expanduser().absolute())  # resolved and
        # checked by config.home_dir, inside the command's error handling


def _groove(open_user: bool = True):
    from groove_core.tiers import Groove

    if "groove" not in _state:
        _state["groove"] = Groove(
            os.environ.get("GROOVE_HOME"), open_user=open_user, progress=_say_migration
        )
    return _state["groove"]


def _say_migration(p: GrooveProgress) -> None:
    """One line on stderr per step of a tier's migration when a command opens it (the
    command's own progress bars are not up yet); a backup of a large tier and some steps
    take a while."""
    err.print(escape(p.describe()), highlight=False)


def _fail(message: str) -> None:
    """Print ``error: <message>`` on one line (control characters, e.g. from a file name,
    shown escaped) and exit with status 1."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    err.print(f"[bold red]error:[/] {escape(shown)}", markup=True, highlight=False)
    raise typer.Exit(1)


def _run(fn):
    """Run a command body, then close the home (which records new tiers that got data).

    No traceback reaches the user: groove errors and file system errors become one red
    line and exit status 1; any other exception is a bug in groove, reported as one line
    too (its traceback follows only with ``GROOVE_DEBUG=1``).
    """
    try:
        done = False
        try:
            result = fn()
            done = True
            return result
        finally:
            g = _state.pop("groove", None)
            if g is not None:
                try:
                    if done:
                        _warn_unreadable(g.unreadable())
                finally:
                    g.close()
    except GrooveError as error:
        _fail(str(error))
    except OSError as error:
        name = error.filename
        _fail(f"{error.strerror or error}: {name!r}" if name is not None else str(error))
    except (typer.Exit, typer.Abort, TyperException):
        raise
    except Exception as error:
        if os.environ.get("GROOVE_DEBUG"):
            raise
        _fail(
            f"internal error (a bug in groove, please report it): {type(error).__name__}: "
            f"{error}; run with GROOVE_DEBUG=1 to see where"
        )


def _warn_unreadable(found: dict[str, dict[str, str]], shown_n: int = 3) -> None:
    """Name, on stderr, the learnings the command left out because their rows do not
    follow the data contract (tier -> id -> what is wrong: :meth:`Groove.unreadable`),
    the first ``shown_n`` of each tier with what is wrong (ids and details are others'
    text: markup and control characters are shown escaped)."""
    from groove_core.store.rows import left_out

    for tier, rows in found.items():
        lines = [f"[yellow]warning:[/] {escape(left_out(tier, len(rows)))}"]
        lines += [f"  {escape(i)}: {escape(detail)}" for i, detail in list(rows.items())[:shown_n]]
        if len(rows) > shown_n:
            lines.append(f"  and {len(rows) - shown_n} more")
        err.print("\n".join(lines), markup=True, highlight=False)


def _progress(*, counts: bool = True, disable: bool = False) -> Progress:
    """A progress display on stderr (task description, bar, done/total, elapsed), gone
    when the work ends and left out when stderr is not a terminal (logs, pipes);
    ``counts=False`` drops done/total for fractional progress."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = [TextColumn("{task.description}"), BarColumn()]
    if counts:
        columns.append(MofNCompleteColumn())
    columns.append(TimeElapsedColumn())
    return Progress(*columns, console=err, transient=True, disable=disable or not err.is_terminal)


def _draw(bar: Progress) -> ProgressFn:
    """A :data:`~groove_core.progress.ProgressFn` drawing every report on ``bar``: one task
    per stage, its bar at ``done`` of ``total`` (pulsing while the total is unknown), the
    report's message beside the stage; a new stage shows the earlier ones finished
    (docs/architecture.md#progress)."""
    tasks: dict[str, TaskID] = {}

    def draw(p: GrooveProgress) -> None:
        label = f"{p.stage}: {p.message}" if p.message else p.stage
        if p.stage not in tasks:
            for task in tasks.values():
                bar.update(task, total=1, completed=1)
            tasks[p.stage] = bar.add_task(label, total=p.total)
        bar.update(tasks[p.stage], completed=p.done, total=p.total, description=label)

    return draw


def _print_json(data) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write(shown_json(text) + "\n")


def _table(rows: list[dict], columns: list[str], title: str | None = None) -> None:
    table = Table(title=title, show_lines=False, highlight=False)
    for col in columns:
        if col == "id":  # ids are copied into the next command: never fold them
            table.add_column(col, no_wrap=True, min_width=36)
        else:
            table.add_column(col, overflow="fold", max_width=60 if col == "description" else None)
    for row in rows:
        table.add_row(  # Text: a cell is shown as written, never read as markup
            *[
                Text("")
                if row.get(c) is None
                else Text(f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]))
                for c in columns
            ]
        )
    out.print(table)


def _scan_field(tier, ids: list[str]) -> dict[str, dict | None]:
    """``scan`` of each id: its stored content-scan mark as JSON, or None."""
    marks = tier.learnings.scan_marks(ids)
    return {i: marks[i].to_json() if i in marks else None for i in ids}


def _with_scan(g, rows: list[dict]) -> list[dict]:
    """Rows with their ``scan`` field (see :func:`_scan_field`), read per tier."""
    by_tier: dict[str, list[str]] = {}
    for r in rows:
        by_tier.setdefault(r["tier"], []).append(r["id"])
    found: dict[str, dict | None] = {}
    for name, ids in by_tier.items():
        found.update(_scan_field(g.tier(name, create=False), ids))
    return [{**r, "scan": found.get(r["id"])} for r in rows]


def _warn_flagged(flagged: list[dict]) -> None:
    """One yellow line per content-scan finding (rule, where, message)."""
    for item in flagged:
        for f in item["findings"]:
            where = f"{f['file']}:{f['file_line']}" if f.get("file") else f"{f['field']}"
            err.print(
                f"[yellow]flagged {item['id']}:[/] "
                + escape(f"{f['rule']} at {where}: {f['message']}"),
                markup=True,
                highlight=False,
            )


# ---------------------------------------------------------------- commands
@app.command()
def status(json_out: JsonOpt = False, home: HomeOpt = None) -> None:
    """Show the home and every tier: engine, schema version, learnings, and whether it can
    be opened (a tier that cannot is listed with the reason). Exits 1 only when the home
    itself is unusable (e.g. a config.toml that does not parse)."""
    _use_home(home)

    def body():
        from groove_core.errors import GrooveError
        from groove_core.store import migrations
        from groove_core.tiers import TierProblem

        g = _groove(open_user=False)
        tiers, problems = g.available(synthetic=True)
        rows = []
        for t in tiers:
            try:  # a tier that opens but cannot be read (a damaged file) is listed too
                count = t.learnings.count()
                row = {
                    "tier": t.label,
                    "engine": t.db.kind,
                    "location": t.db.location,
                    "schema_version": migrations.current_version(t.db),
                    "learnings": count,
                    "unembedded": t.learnings.count_unembedded(count),
                    "status": "ok",
                }
            except GrooveError as error:
                problems.append(TierProblem(t.name, str(error)))
                continue
            rows.append(row)
        for p in problems:
            cfg = g.config.tier(p.name)
            rows.append(
                {
                    "tier": p.name,
                    "engine": cfg.engine,
                    "location": str(cfg.path or cfg.host or cfg.engine),
                    "status": "unavailable",
                    "reason": p.reason,
                }
            )
        if json_out:
            _print_json({"home": str(g.home), "tiers": rows})
            return
        out.print(f"home: {g.home}", highlight=False, markup=False)
        _table(
            rows,
            ["tier", "engine", "schema_version", "learnings", "unembedded", "status", "location"],
        )
        for p in problems:
            err.print(
                f"[yellow]tier '{escape(p.name)}' is unavailable:[/] {escape(p.reason)}",
                markup=True,
                highlight=False,
            )
        for row in rows:
            if row.get("unembedded"):
                err.print(
                    f"[yellow]{row['unembedded']} learnings of tier '{escape(row['tier'])}' "
                    "have no embedding (written by another program?): semantic search misses "
                    f"them until you run: groove reembed --tier {escape(row['tier'])}[/]",
                    markup=True,
                    highlight=False,
                )

    _run(body)


@app.command("import")
def import_(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="rule files (CLAUDE.md, AGENTS.md, .cursorrules, *.mdc, ...), folders of them, "
            "or groove export .json files"
        ),
    ],
    tier: TierOpt = "user",
    scope: Annotated[
        str | None, typer.Option(help="scope of the new learnings (default: the tier's own)")
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="import the good files and list the malformed ones")
    ] = False,
    on_conflict: Annotated[
        OnConflict,
        typer.Option(
            help="an export's learning whose id is already there with different content: "
            "fail (write nothing and list them), skip (keep the tier's) or replace (take "
            "the file's)"
        ),
    ] = OnConflict.fail,
    reason: ReasonOpt = "",
    override_reason: OverrideOpt = None,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Import rule files or a groove export; importing the same files again adds nothing.

    Every rule is content-scanned (secrets, prompt injection): flagged ones are marked in
    a user or project tier and block an import into an enterprise tier unless a curator
    gives --override-reason. A contributor's import into an enterprise tier is filed as a
    proposal for review."""
    _use_home(home)

    def body():
        from groove_core.io.importer import import_paths
        from groove_core.model.scope import Scope

        chosen_scope = Scope.parse(scope) if scope else None  # before the tier is created
        t = _groove().tier(tier)
        with _progress(disable=json_out) as bar:
            report = import_paths(
                t,
                paths,
                scope=chosen_scope,
                skip_bad=skip_bad,
                on_conflict=on_conflict.value,
                reason=reason,
                override_reason=override_reason,
                progress=_draw(bar),
            )
        if json_out:
            _print_json({"tier": t.name, **report.to_json()})
            return
        if report.proposal is not None:
            out.print(
                f"filed proposal {report.proposal.id} ({len(report.proposal.after)} learnings) "
                f"in tier '{t.name}' for a curator to review; nothing is imported until it is "
                "approved"
            )
        else:
            dup, rep = report.learnings_duplicate, report.learnings_replaced
            out.print(
                f"{report.learnings_added} learnings added"
                f"{f', {rep} replaced' if rep else ''}, {report.learnings_skipped} "
                f"already present{f', {dup} repeated within the import' if dup else ''}, "
                f"from {len(report.files)} files into tier '{t.name}'"
            )
        for stats in report.exports:
            if stats.conflicts:
                verb = "replaced" if on_conflict is OnConflict.replace else "kept the tier's"
                err.print(f"{len(stats.conflicts)} conflicting learnings ({verb}):")
                for lid in stats.conflicts:
                    err.print(f"  {lid}")
            if stats.duplicates:
                err.print(f"ids repeated within the file: {', '.join(stats.duplicates)}")
            if stats.relations_skipped:
                from groove_core.io.export import RELATIONS_LEFT_OUT

                total = stats.relations_skipped + stats.relations_imported
                err.print(
                    f"{stats.relations_skipped} of {total} relations left out "
                    f"({RELATIONS_LEFT_OUT})"
                )
        for line in report.errors:
            err.print(f"[yellow]skipped:[/] {escape(line)}", markup=True, highlight=False)
        _warn_flagged(report.flagged)

    _run(body)


@app.command()
def export(
    file: Annotated[Path, typer.Argument(help="where to write the GrooveExport JSON")],
    tier: TierOpt = "user",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace FILE when it exists already")
    ] = False,
    home: HomeOpt = None,
) -> None:
    """Export a tier (learnings with usage stats, params, relations) as GrooveExport JSON
    (an existing FILE only with --overwrite)."""
    _use_home(home)

    def body():
        from groove_core.io.export import export_file

        t = _groove().tier(tier, create=False)
        counts = export_file(t, file, overwrite=overwrite)
        out.print(
            f"exported {counts['learnings']} learnings, {counts['relations']} relations "
            f"and {counts['params']} params from tier '{t.name}' to {file}"
        )

    _run(body)


def _filter(scope, category, source, flagged=False):
    from groove_core.store.listing import LearningFilter

    return LearningFilter(scope=scope, category=category, source_type=source, flagged=flagged)


def _tiers_arg(g, tier: str) -> list[str] | None:
    """The tiers a read covers: every real tier for ``all`` (simulation tiers only when
    named), else the one named."""
    if tier == "all":
        g.available()
        return None
    return [g.resolve(tier)]


@app.command("list")
def list_(
    tier: Annotated[
        str, typer.Option(help="a tier, or 'all' (every real tier: not simulation tiers)")
    ] = "user",
    scope: Annotated[str | None, typer.Option(help="only this scope")] = None,
    category: Annotated[str | None, typer.Option(help="only this category")] = None,
    source: Annotated[str | None, typer.Option(help="only this source type")] = None,
    flagged: FlaggedOpt = False,
    sort: Annotated[Sort, typer.Option(help="order")] = Sort.recency,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """List learnings, one page at a time."""
    _use_home(home)

    def body():
        g = _groove()
        page = g.list(
            _tiers_arg(g, tier),
            _filter(scope, category, source, flagged),
            sort=sort.value,
            limit=limit,
            offset=offset,
        )
        rows = [lr.summary() for lr in page.items]
        if json_out:
            _print_json(_with_scan(g, rows))
            return
        if not rows:
            out.print(
                f"none of {offset + 1}-{min(offset + limit, page.total)} of {page.total} "
                "could be read"
                if page.total > offset
                else "no learnings" + (f" from {offset + 1} on" if offset else "")
            )
            return
        _table(
            rows,
            ["id", "tier", "category", "confidence", "description"],
            title=f"{offset + 1 if rows else 0}-{offset + len(rows)} of {page.total}",
        )

    _run(body)


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="what to look for")],
    mode: Annotated[Mode, typer.Option(help=", ".join(MODES))] = DEFAULT_SEARCH_MODE,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    tier: Annotated[
        str, typer.Option(help="a tier, or 'all' (every real tier: not simulation tiers)")
    ] = "user",
    category: Annotated[str | None, typer.Option(help="only this category")] = None,
    flagged: FlaggedOpt = False,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Search learnings by meaning, by words, or both (reciprocal rank fusion)."""
    _use_home(home)

    def body():
        g = _groove()
        hits = g.search(
            text,
            mode=mode.value,
            limit=limit,
            tiers=_tiers_arg(g, tier),
            flt=_filter(None, category, None, flagged) if category or flagged else None,
        )
        rows = [h.summary() for h in hits]
        if json_out:
            _print_json(_with_scan(g, rows))
            return
        if not rows:
            out.print(f"no learning matches {text!r}", highlight=False)
            return
        _table(rows, ["score", "id", "tier", "category", "description"])

    _run(body)


@app.command()
def show(
    learning_id: Annotated[str, typer.Argument(metavar="ID")],
    tier: Annotated[str, typer.Option(help="a tier, or 'all'")] = "all",
    json_out: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Show one learning with its usage stats, relations and history."""
    _use_home(home)

    def body():
        from groove_core.errors import NotFoundError
        from groove_core.model.usage import usage_to_json

        g = _groove()
        tiers = _tiers_arg(g, tier)
        found = g.get(learning_id, tiers)
        if found is None:
            raise NotFoundError(f"no learning {learning_id} in tier(s) {tier}")
        t = g.tier(found.tier)
        data = {
            **found.summary(),
            "pattern": found.content.pattern,
            "usage_stats": usage_to_json(t.learnings.usage(found.id)),
            "scan": _scan_field(t, [found.id])[found.id],
            "relations": [
                {
                    "type": r.relation.relation_type.value,
                    "direction": r.direction,
                    "other_id": r.relation.to_id if r.direction == "out" else r.relation.from_id,
                    "other": r.other.description if r.other else None,
                }
                for r in t.learnings.related(found.id)
            ],
            "history": [
                {
                    "at": e.at.isoformat(),
                    "who": e.who,
                    "action": e.action,
                    "before": e.before,
                    "after": e.after,
                }
                for e in t.learnings.history(found.id)
            ],
        }
        if json_out:
            _print_json(data)
            return
        for key in (
            "id",
            "tier",
            "scope",
            "category",
            "source",
            "confidence",
            "created_at",
            "updated_at",
        ):
            out.print(f"[bold]{key}:[/] {escape(str(data[key]))}", markup=True, highlight=False)
        out.print(f"[bold]description:[/] {escape(found.description)}", markup=True)
        out.print("[bold]insight:[/]", markup=True, highlight=False)
        out.print(found.insight, markup=False, highlight=False)
        u = data["usage_stats"]
        out.print(
            f"[bold]usage:[/] injected {u['times_injected']}, helpful {u['times_helpful']}"
            f", ignored {u['times_ignored']}, contradicted {u['times_contradicted']}"
            f" (Beta {u['confidence_alpha']:.2f}, {u['confidence_beta']:.2f})",
            markup=True,
        )
        for r in data["relations"]:
            out.print(
                f"  {r['direction']} {r['type']} {r['other_id']} {r['other'] or ''}", markup=False
            )
        for h in data["history"]:
            out.print(f"  {h['at']} {h['who']} {h['action']}", markup=False)
        if data["scan"]:
            _warn_flagged([{"id": found.id, "description": "", **data["scan"]}])

    _run(body)


@app.command()
def edit(
    learning_id: Annotated[str, typer.Argument(metavar="ID")],
    description: Annotated[str | None, typer.Option(help="new description")] = None,
    insight: Annotated[str | None, typer.Option(help="new insight")] = None,
    category: Annotated[str | None, typer.Option(help="new category")] = None,
    scope: Annotated[str | None, typer.Option(help="new scope")] = None,
    tier: TierOpt = "user",
    reason: ReasonOpt = "",
    override_reason: OverrideOpt = None,
    home: HomeOpt = None,
) -> None:
    """Edit a learning (recorded in its history; visible to the next search). A
    contributor's edit in an enterprise tier is filed as a proposal for review."""
    _use_home(home)

    def body():
        if description is None and insight is None and category is None and scope is None:
            raise typer.BadParameter(
                "give at least one of --description, --insight, --category, --scope"
            )
        sub = _groove().edit(
            tier,
            learning_id,
            description=description,
            insight=insight,
            category=category,
            scope=scope,
            reason=reason,
            override_reason=override_reason,
        )
        if sub.applied:
            lid = sub.learnings[0].id
            out.print(f"updated {lid} in tier '{sub.tier}'")
            mark = _scan_field(_groove().tier(sub.tier, create=False), [lid])[lid]
            if mark and mark.get("findings"):
                _warn_flagged([{"id": lid, "findings": mark["findings"]}])
        else:
            out.print(sub.describe())

    _run(body)


@app.command()
def delete(
    learning_id: Annotated[str, typer.Argument(metavar="ID")],
    tier: TierOpt = "user",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
    reason: ReasonOpt = "",
    home: HomeOpt = None,
) -> None:
    """Delete a learning with its usage stats, embedding and relations (undo: restore).
    A contributor's deletion in an enterprise tier is filed as a proposal for review."""
    _use_home(home)

    def body():
        from groove_core.errors import DataContractError

        g = _groove()
        t = g.tier(tier, create=False)
        try:
            what = f"'{shown(t.learnings.require(learning_id).description[:60])}'"
            undo = f"undo with: groove restore {learning_id} --tier {t.name}"
        except DataContractError as error:  # another program's row groove cannot read
            what = f"learning {learning_id} ({shown(error.detail[:80])})"
            undo = "it cannot be restored (its row is kept in the tier's edit history)"
        if not yes and not typer.confirm(f"Delete {what} from tier '{t.name}'?", err=True):
            raise typer.Exit(1)
        sub = g.delete(t.name, [learning_id], reason=reason)
        if sub.proposal is not None:
            out.print(sub.describe())
        elif sub.count:
            out.print(f"deleted {learning_id}; {undo}")
        else:
            _fail(f"nothing was deleted: no learning {learning_id} in tier '{t.name}'")

    _run(body)


@app.command()
def reembed(tier: TierOpt = "user", home: HomeOpt = None) -> None:
    """Embed the learnings that have no embedding (e.g. written by another program), so
    semantic and hybrid search find them."""
    _use_home(home)

    def body():
        t = _groove().tier(tier, create=False)
        todo = t.learnings.count_unembedded()
        if not todo:
            out.print(f"every learning of tier '{t.name}' has an embedding")
            return
        with _progress() as bar:
            n = t.learnings.reembed(_draw(bar))
        out.print(f"embedded {n} learnings of tier '{t.name}'")

    _run(body)


@app.command()
def scan(tier: TierOpt = "user", home: HomeOpt = None) -> None:
    """Content-scan the learnings of a tier that carry no scan mark yet (rows another
    program wrote skip the scan of groove's writes) for secrets and prompt injection,
    and mark what is found (then: groove list --flagged)."""
    _use_home(home)

    def body():
        t = _groove().tier(tier, create=False)
        with _progress() as bar:
            n = t.learnings.scan_all(_draw(bar))
        if n:
            out.print(
                f"flagged {n} learning{'s' if n != 1 else ''} of tier '{t.name}'; "
                f"see them with: groove list --flagged --tier {t.name}"
            )
        else:
            out.print(f"no new findings in tier '{t.name}'")

    _run(body)


@app.command()
def restore(
    learning_id: Annotated[str, typer.Argument(metavar="ID")],
    tier: TierOpt = "user",
    home: HomeOpt = None,
) -> None:
    """Undo the deletion of a learning."""
    _use_home(home)

    def body():
        t = _groove().tier(tier, create=False)
        lr = t.learnings.restore(learning_id)
        out.print(f"restored {lr.id} in tier '{t.name}'")

    _run(body)


@app.command()
def promote(
    learning_id: Annotated[str, typer.Argument(metavar="ID")],
    to: Annotated[str, typer.Option("--to", help="target tier")],
    reason: ReasonOpt = "",
    home: HomeOpt = None,
) -> None:
    """Copy a learning to another tier (its source becomes Promoted). Into an enterprise
    tier it is filed as a proposal that a curator reviews."""
    _use_home(home)

    def body():
        g = _groove()
        g.available()
        sub = g.promote(learning_id, to, reason=reason)
        if sub.applied:
            out.print(f"promoted to tier '{sub.tier}' as {sub.learnings[0].id}")
        else:
            out.print(sub.describe())

    _run(body)


@app.command()
def migrate(
    show_status: Annotated[bool, typer.Option("--status", help="list applied and pending")] = False,
    to: Annotated[int | None, typer.Option("--to", help="target schema version")] = None,
    tier: TierOpt = "user",
    json_out: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Show or change a tier's schema version (down only for groove's own versions)."""
    _use_home(home)

    def body():
        from groove_core.errors import TierUnavailableError
        from groove_core.store import migrations
        from groove_core.store.engine import Engine

        g = _groove(open_user=False)
        name = g.resolve(tier)
        if not g.config.exists(name):
            raise TierUnavailableError(name, "it does not exist yet, so it has no schema")
        cfg = g.config.tier(name)
        with Engine(name, cfg.engine, cfg.path, cfg.options) as db:
            if show_status or to is None:
                rows = [
                    {
                        "version": s.version,
                        "description": s.description,
                        "state": "applied" if s.applied_at else "pending",
                        "applied_at": s.applied_at,
                        "reversible": s.reversible,
                    }
                    for s in migrations.status(db)
                ]
                if json_out:
                    _print_json(rows)
                else:
                    _table(
                        rows,
                        ["version", "state", "reversible", "description"],
                        title=f"tier '{name}'",
                    )
                return
            with _progress(disable=json_out) as bar:
                report = migrations.migrate(db, to, actor=g.principal, progress=_draw(bar))
            if json_out:
                _print_json(report.__dict__)
                return
            out.print(f"tier '{name}': version {report.from_version} -> {report.to_version}")
            if report.backup:
                out.print(f"backup written to {report.backup}")

    _run(body)


class Part(StrEnum):
    all = "all"
    attribution = "attribution"
    openworld = "openworld"


@app.command()
def simulate(
    tier: Annotated[
        str,
        typer.Option(
            "--tier",
            help="the simulation tier to write into: simulation:<name> (never a real tier)",
        ),
    ] = "simulation:demo",
    source: Annotated[
        str,
        typer.Option("--from", help="the real tier whose learnings are copied (only read)"),
    ] = "user",
    part: Annotated[Part, typer.Option(help="what to simulate")] = Part.all,
    # bounds are checked before anything is copied into the simulation tier
    seed: Annotated[
        int, typer.Option(min=0, max=2**32 - 1, help="random seed (same seed, same data)")
    ] = 0,
    sessions: Annotated[int, typer.Option(min=1, max=100_000, help="synthetic sessions")] = 300,
    experiments: Annotated[int, typer.Option(min=0, max=1_000, help="ablation experiments")] = 8,
    contexts: Annotated[
        int, typer.Option(min=40, max=100_000, help="synthetic fingerprints")
    ] = 400,
    corpus: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            file_okay=False,
            help="folder of rule files whose lines become familiar contexts",
        ),
    ] = None,
    remove: Annotated[
        bool,
        typer.Option(
            "--remove",
            help="delete the simulation tier (with --part attribution or openworld: only "
            "that part's runs in it)",
        ),
    ] = False,
    home: HomeOpt = None,
) -> None:
    """Fill a simulation tier with SYNTHETIC data for the evidence and open-world pages.

    The simulation never writes into a real tier: it copies the learnings of
    --from (default user) into its own tier, --tier (default simulation:demo),
    and writes everything there. Attribution: sessions "sim-<seed>-*",
    outcomes, attribution records, ablation experiments and adaptive parameters
    from a seeded model with a known true effect per learning. Open world:
    fingerprints from the copied learnings (and --corpus), novel contexts,
    clusters, gaps, failures and events. Simulation tiers are left out of
    '--tier all' and shown as synthetic on the dashboard; --remove deletes the
    simulation tier again.
    """
    _use_home(home)

    def body():
        from groove_core import simulate as sim
        from groove_core.config import SYNTHETIC_KINDS, tier_kind

        g = _groove()
        name = g.resolve(tier)
        if tier_kind(name) not in SYNTHETIC_KINDS:
            raise GrooveError(
                f"groove simulate writes only into a simulation tier (simulation:<name>); "
                f"'{name}' is a real tier. Copy its learnings with: groove simulate --from "
                f"{name}"
            )
        do_attr = part in (Part.all, Part.attribution)
        do_ow = part in (Part.all, Part.openworld)
        if remove:
            if part == Part.all:
                gone = sim.remove_simulation_tier(g, name)
                out.print(f"deleted simulation tier '{name}'" if gone else f"no tier '{name}'")
                return
            t = g.tier(name, create=False)
            if do_attr:
                runs = sim.remove_attribution_simulation(t)
                out.print(f"removed {len(runs)} attribution simulation run(s) from '{t.name}'")
            if do_ow:
                counts = sim.remove_openworld_simulation(t)
                out.print(f"removed open-world simulation rows from '{t.name}': {counts}")
            return
        t, copied = sim.copy_into_simulation(g, name, source)
        out.print(
            f"copied {copied.copied} learnings ({copied.already} copied before) and "
            f"{copied.params} parameters from '{copied.source}' into the SYNTHETIC tier "
            f"'{t.name}'; '{copied.source}' is unchanged"
        )
        with _progress(counts=False) as bar:
            draw = _draw(bar)
            if do_attr:
                report = sim.simulate_attribution(
                    t,
                    seed=seed,
                    sessions=sessions,
                    experiments=experiments,
                    progress=draw,
                )
                out.print(report.summary())
            if do_ow:
                report = sim.simulate_openworld(
                    t,
                    seed=seed,
                    corpus_dir=corpus,
                    n_contexts=contexts,
                    progress=draw,
                )
                out.print(
                    f"SYNTHETIC open-world data written to tier '{t.name}': "
                    f"{report.summary()}. Remove it with: groove simulate --remove --tier "
                    f"{t.name}"
                )

    _run(body)


# ---------------------------------------------------------------- access
access_app = typer.Typer(help="Roles in a tier: reader, contributor, curator, admin.")
app.add_typer(access_app, name="access")


@access_app.command("list")
def access_list(tier: TierOpt = "user", json_out: JsonOpt = False, home: HomeOpt = None) -> None:
    """List who has which role in a tier (and your own role)."""
    _use_home(home)

    def body():
        g = _groove()
        t = g.tier(tier, create=False)
        rows = [gr.to_json() for gr in t.access.grants()]
        mine = t.role()
        if json_out:
            _print_json(
                {"tier": t.name, "you": g.principal.id, "your_role": _role(mine), "grants": rows}
            )
            return
        out.print(
            f"tier '{t.name}': you are {g.principal} ({_role(mine) or 'no role'})", highlight=False
        )
        if rows:
            _table(rows, ["principal", "name", "role", "granted_by", "granted_at"])
        else:
            out.print("no roles are stored (the owner of a user or project tier needs none)")

    _run(body)


@access_app.command("grant")
def access_grant(
    principal: Annotated[str, typer.Argument(help="an email or login")],
    role: Annotated[str, typer.Argument(help="reader, contributor, curator or admin")],
    tier: TierOpt = "user",
    name: Annotated[str, typer.Option(help="display name")] = "",
    home: HomeOpt = None,
) -> None:
    """Give PRINCIPAL a ROLE in a tier (an admin's action). Granting in an enterprise tier
    that does not exist yet creates it, with you as its first admin."""
    _use_home(home)

    def body():
        from groove_core.model.access import Principal, Role

        role_ = Role.parse(role)  # bad input is refused before a new tier is created
        who = Principal(principal, name)
        t = _groove().tier(tier)
        grant = t.access.grant(who, role_)
        out.print(f"{grant.principal} is now {grant.role.name} in tier '{t.name}'", highlight=False)

    _run(body)


@access_app.command("claim")
def access_claim(tier: TierOpt = "user", home: HomeOpt = None) -> None:
    """Become the first admin of an enterprise tier that has none: one an older groove or
    another program wrote (opening it gives nobody a role). Recorded in the audit log;
    refused once the tier has an admin."""
    _use_home(home)

    def body():
        g = _groove()
        t = g.tier(tier, create=False)
        grant = t.access.bootstrap(g.principal)
        out.print(f"{grant.principal} is now admin in tier '{t.name}'", highlight=False)

    _run(body)


@access_app.command("revoke")
def access_revoke(
    principal: Annotated[str, typer.Argument(help="an email or login")],
    tier: TierOpt = "user",
    home: HomeOpt = None,
) -> None:
    """Remove PRINCIPAL's role in a tier (an admin's action)."""
    _use_home(home)

    def body():
        t = _groove().tier(tier, create=False)
        if t.access.revoke(principal):
            out.print(f"{principal} has no role in tier '{t.name}' any more", highlight=False)
        else:
            out.print(f"{principal} had no role in tier '{t.name}'", highlight=False)

    _run(body)


def _role(role) -> str | None:
    return role.name if role is not None else None


# ---------------------------------------------------------------- review
review_app = typer.Typer(help="Proposals awaiting review in an enterprise tier.")
app.add_typer(review_app, name="review")
ReviewTierOpt = Annotated[
    str | None,
    typer.Option("--tier", help="the tier (default: the only enterprise tier configured)"),
]


def _review_tier(g, tier: str | None):
    """The tier named, or the only enterprise tier of the home."""
    if tier:
        return g.tier(tier, create=False)
    names = [n for n in g.config.known_tiers() if n.startswith("enterprise:")]
    if len(names) != 1:
        from groove_core.errors import ConfigError

        raise ConfigError(
            "name the tier with --tier"
            + (f" (enterprise tiers: {', '.join(names)})" if names else " (no enterprise tier)")
        )
    return g.tier(names[0], create=False)


@review_app.command("list")
def review_list(
    tier: ReviewTierOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="decided ones too")] = False,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Proposals awaiting review (open or changes requested), oldest first."""
    _use_home(home)

    def body():
        t = _review_tier(_groove(), tier)
        rows = (
            [p.summary() for p in t.proposals.list(None if all_ else ())]
            if all_
            else [p.summary() for p in t.proposals.list()]
        )
        if json_out:
            _print_json(rows)
            return
        if not rows:
            out.print(f"no proposal awaits review in tier '{t.name}'")
            return
        _table(
            rows,
            ["id", "revision", "kind", "status", "author", "learnings", "findings", "description"],
        )

    _run(body)


@review_app.command("show")
def review_show(
    proposal_id: Annotated[str, typer.Argument(metavar="ID")],
    tier: ReviewTierOpt = None,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """One proposal: what it changes (before and after), why, and the content-scan findings."""
    _use_home(home)

    def body():
        t = _review_tier(_groove(), tier)
        p = t.proposals.require(proposal_id)
        if json_out:
            _print_json(p.to_json())
            return
        for key, value in p.summary().items():
            out.print(f"[bold]{key}:[/] {escape(str(value))}", markup=True, highlight=False)
        for label, items in (("before", p.before), ("after", p.after)):
            for item in items:
                c = item.get("content") or {}
                out.print(f"[bold]{label}:[/] {escape(str(c.get('description', '')))}", markup=True)
                out.print(str(c.get("insight", "")), markup=False, highlight=False)
        _warn_flagged([{"id": p.id, "findings": list(p.findings)}])

    _run(body)


@review_app.command("approve")
def review_approve(
    proposal_id: Annotated[str, typer.Argument(metavar="ID")],
    revision: Annotated[
        str,
        typer.Option(
            help="the revision you reviewed, as `review show` prints it: a proposal its "
            "author revised since is refused"
        ),
    ],
    tier: ReviewTierOpt = None,
    note: Annotated[str, typer.Option(help="a note kept with the decision")] = "",
    override_reason: OverrideOpt = None,
    home: HomeOpt = None,
) -> None:
    """Approve the revision of a proposal you reviewed: its change is applied in the same
    transaction (a curator's action; nobody approves their own)."""
    _use_home(home)

    def body():
        t = _review_tier(_groove(), tier)
        p = t.proposals.approve(
            proposal_id, revision=revision.strip(), note=note, override_reason=override_reason
        )
        out.print(
            f"approved {p.id}: {p.kind.value} of {len(p.learning_ids)} learning(s) "
            f"applied to tier '{t.name}'"
        )

    _run(body)


@review_app.command("reject")
def review_reject(
    proposal_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="why (required)")],
    tier: ReviewTierOpt = None,
    home: HomeOpt = None,
) -> None:
    """Reject a proposal with a reason; nothing of it reaches the tier."""
    _use_home(home)

    def body():
        t = _review_tier(_groove(), tier)
        p = t.proposals.reject(proposal_id, reason)
        out.print(f"rejected {p.id}")

    _run(body)


@review_app.command("request-changes")
def review_request_changes(
    proposal_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Annotated[str, typer.Option("--note", help="what to change (required)")],
    tier: ReviewTierOpt = None,
    home: HomeOpt = None,
) -> None:
    """Ask the author to revise a proposal."""
    _use_home(home)

    def body():
        t = _review_tier(_groove(), tier)
        p = t.proposals.request_changes(proposal_id, note)
        out.print(f"asked {p.author} to revise {p.id}", highlight=False)

    _run(body)


@review_app.command("withdraw")
def review_withdraw(
    proposal_id: Annotated[str, typer.Argument(metavar="ID")],
    tier: ReviewTierOpt = None,
    home: HomeOpt = None,
) -> None:
    """Take back a proposal of yours that awaits review."""
    _use_home(home)

    def body():
        t = _review_tier(_groove(), tier)
        p = t.proposals.withdraw(proposal_id)
        out.print(f"withdrew {p.id}")

    _run(body)


# ---------------------------------------------------------------- audit
audit_app = typer.Typer(help="The tamper-evident audit log of a tier.")
app.add_typer(audit_app, name="audit")


@audit_app.command("log")
def audit_log(
    tier: TierOpt = "user",
    since: Annotated[
        str | None, typer.Option(help="only entries at or after this time (ISO 8601, UTC)")
    ] = None,
    who: Annotated[str | None, typer.Option("--who", help="only this principal's")] = None,
    action: Annotated[
        str | None, typer.Option(help="only actions starting with this (e.g. learning.)")
    ] = None,
    target: Annotated[str | None, typer.Option(help="only entries about this target")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Who did what, when, newest first."""
    _use_home(home)

    def body():
        t = _groove().tier(tier, create=False)
        entries = t.audit.entries(
            since=_parse_since(since), principal=who, action=action, target=target, limit=limit
        )
        rows = [e.to_json() for e in entries]
        if json_out:
            _print_json(rows)
            return
        if not rows:
            out.print("no audit entry matches")
            return
        _table(rows, ["seq", "at", "principal", "action", "target"])

    _run(body)


def _parse_since(value: str | None):
    from groove_core.errors import ValidationError
    from groove_core.model.serde import from_rfc3339

    if value is None:
        return None
    text = value.strip()
    if len(text) == 10:  # a date
        text += "T00:00:00Z"
    elif not re.search(r"(Z|[+-]\d\d:?\d\d)$", text[10:], re.IGNORECASE):
        text += "Z"  # a time without an offset is UTC
    try:
        return from_rfc3339(text, "--since")
    except ValidationError:
        raise ValidationError(
            f"--since must be a date (2026-01-31) or an RFC 3339 time "
            f"(2026-01-31T09:00:00Z, ...+02:00), got {value!r:.80}"
        ) from None


@audit_app.command("verify")
def audit_verify(
    tier: TierOpt = "user",
    anchor: Annotated[
        str | None,
        typer.Option(
            help="SEQ:HASH, a head this command printed earlier and you kept outside the "
            "tier: that entry must still have that hash (catches a log rewritten with every "
            "hash recomputed)"
        ),
    ] = None,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Check the hash chain; exits 1 and names the first altered, inserted or removed entry.
    Keep the head it prints (SEQ:HASH) somewhere the tier's writers cannot change, and pass
    it as --anchor SEQ:HASH next time."""
    _use_home(home)

    def body():
        from groove_core.store.audit import parse_anchor

        kept = parse_anchor(anchor) if anchor is not None else None
        t = _groove().tier(tier, create=False)
        v = t.audit.verify(kept)
        if json_out:
            _print_json({"tier": t.name, **v.to_json()})
        elif v.ok:
            out.print(
                f"tier '{t.name}': audit log intact, {v.entries} entries, "
                f"head {v.head_seq}:{v.head_hash}"
                + (f" (entry {kept[0]} has the hash you kept)" if kept else "")
            )
        else:
            err.print(
                f"[bold red]tier '{escape(t.name)}': audit log broken at entry {v.first_bad}:[/] "
                + escape(v.problem or ""),
                markup=True,
            )
        if not v.ok:
            raise typer.Exit(1)

    _run(body)


# ---------------------------------------------------------------- backup
@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="where to write the backup (a SQLite file)")],
    tier: TierOpt = "user",
    home: HomeOpt = None,
) -> None:
    """Write a consistent copy of a whole tier (every relation, history and audit log
    included) with the engine's own backup; works while the dashboard has the tier open."""
    _use_home(home)

    def body():
        from groove_core.io.backup import backup_tier

        t = _groove().tier(tier, create=False)
        info = backup_tier(t, file)
        out.print(
            f"backed up tier '{t.name}' to {info['file']} "
            f"({info['bytes']} bytes, sha256 {info['sha256']})"
        )

    _run(body)


@app.command("restore-backup")
def restore_backup(
    file: Annotated[Path, typer.Argument(help="a file written by groove backup")],
    tier: Annotated[
        str, typer.Option("--tier", help="the tier to restore into (must be empty or new)")
    ],
    home: HomeOpt = None,
) -> None:
    """Restore a backup into a new or empty tier (it never overwrites a tier with data)."""
    _use_home(home)

    def body():
        from groove_core.io.backup import restore_tier

        g = _groove()
        t = restore_tier(g, tier, file)
        out.print(
            f"restored {file} into tier '{t.name}': {t.learnings.count()} learnings, "
            f"audit log {'intact' if t.audit.verify().ok else 'BROKEN'}"
        )

    _run(body)


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="port to serve on")] = 8501,
    address: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    auth: Annotated[
        DashboardAuth,
        typer.Option(
            help="how people are identified: none (this computer's account acts) or oidc "
            "(each person signs in through OpenID Connect; see --secrets)"
        ),
    ] = DashboardAuth.none,
    secrets: Annotated[
        Path | None,
        typer.Option(
            help="Streamlit secrets file whose \\[auth] section configures sign-in "
            "(default with --auth oidc: .streamlit/secrets.toml in this folder)"
        ),
    ] = None,
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth", help="serve an address beyond this machine without sign-in, knowingly"
        ),
    ] = False,
    home: HomeOpt = None,
) -> None:
    """Open the dashboard (Streamlit) on the groove home; its project tier and import offer
    are those of the project you start it in. SIGINT, SIGTERM and SIGHUP stop the server."""
    _use_home(home)
    from groove_core import serve
    from groove_core.config import home_dir
    from groove_core.tiers import find_project_root

    secrets_file = None
    try:
        warning = serve.check_exposure(address, auth, no_auth)
        if auth is DashboardAuth.oidc:
            secrets_file = serve.check_auth_secrets(secrets or serve.default_secrets_file())
        elif secrets is not None:
            raise DashboardAuthError("--secrets configures sign-in: use it with --auth oidc")
    except GrooveError as error:
        _fail(str(error))
    if warning:
        err.print(f"[bold yellow]warning:[/] {escape(warning)}", markup=True, highlight=False)

    chosen = home_dir(os.environ.get("GROOVE_HOME"))
    project = find_project_root()
    app_file = Path(__file__).resolve().parent.parent / "dashboard" / "streamlit_app.py"
    env = {
        **os.environ,
        "GROOVE_HOME": str(chosen),
        "GROOVE_PROJECT": str(project),
        "HF_HUB_OFFLINE": "1",
        serve.AUTH_ENV: auth.value,
    }
    sign_in = f"sign-in: OpenID Connect ({secrets_file})" if secrets_file else "no sign-in"
    out.print(
        f"groove dashboard on http://{address}:{port} (home: {chosen}, project: {project}; "
        f"{sign_in}); Ctrl+C stops it"
    )
    cmd = serve.streamlit_command(app_file, port=port, address=address, secrets=secrets_file)
    raise typer.Exit(serve.run_supervised(cmd, env=env, cwd=app_file.parent.parent))


if __name__ == "__main__":
    app()
