"""The ``groove`` command line: setup, import, export, search, edit and the dashboard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup
from typer.exceptions import TyperException

from groove_core.errors import GrooveError
from groove_core.model.values import check_text

# Messages hold ids and commands: never break them. Markup is off (they also hold text
# users wrote, which may contain "[/]" or ":smile:"); lines that style pass markup=True
# and escape() what they interpolate.
out = Console(soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, soft_wrap=True, markup=False, emoji=False)


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


app = typer.Typer(
    cls=_Commands,
    help="groove: the memory of an AI coding assistant (learnings in Cozo tiers).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home", help="groove home folder (default: $GROOVE_HOME or the platform data folder)"
    ),
]
TierOpt = Annotated[
    str,
    typer.Option(
        "--tier", help="tier: user, project (this project), project:<path> or enterprise:<org>"
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


class Mode(StrEnum):
    semantic = "semantic"
    fulltext = "fulltext"
    hybrid = "hybrid"


class OnConflict(StrEnum):
    fail = "fail"
    skip = "skip"
    replace = "replace"


class Sort(StrEnum):
    recency = "recency"
    created = "created"
    confidence = "confidence"
    usage = "usage"


_state: dict = {}


@app.callback()
def main(home: HomeOpt = None) -> None:
    """Options that apply to every command (``--home`` may also follow the command)."""
    _use_home(home)


def _use_home(home: Path | None) -> None:
    """Make ``home`` the groove home of this run (``--home`` before or after a command)."""
    if home is not None:
        os.environ["GROOVE_HOME"] = str(Path(home).expanduser().resolve())


def _groove(open_user: bool = True):
    from groove_core.tiers import Groove

    if "groove" not in _state:
        _state["groove"] = Groove(os.environ.get("GROOVE_HOME"), open_user=open_user)
    return _state["groove"]


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
        try:
            return fn()
        finally:
            g = _state.pop("groove", None)
            if g is not None:
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


def _progress(*, counts: bool = True, disable: bool = False) -> Progress:
    """A progress display on stderr (task description, bar, done/total, elapsed), gone
    when the work ends and left out when stderr is not a terminal (logs, pipes);
    ``counts=False`` drops done/total for fractional progress."""
    columns = [TextColumn("{task.description}"), BarColumn()]
    if counts:
        columns.append(MofNCompleteColumn())
    columns.append(TimeElapsedColumn())
    return Progress(*columns, console=err, transient=True, disable=disable or not err.is_terminal)


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _table(rows: list[dict], columns: list[str], title: str | None = None) -> None:
    table = Table(title=title, show_lines=False, highlight=False)
    for col in columns:
        if col == "id":  # ids are copied into the next command: never fold them
            table.add_column(col, no_wrap=True, min_width=36)
        else:
            table.add_column(col, overflow="fold", max_width=60 if col == "description" else None)
    for row in rows:
        table.add_row(
            *[
                ""
                if row.get(c) is None
                else (f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]))
                for c in columns
            ]
        )
    out.print(table)


# ---------------------------------------------------------------- commands
@app.command()
def status(json_out: JsonOpt = False, home: HomeOpt = None) -> None:
    """Show the home and every tier: engine, schema version, learnings, and whether it can
    be opened (a tier that cannot is listed with the reason). Exits 1 only when the home
    itself is unusable (e.g. a config.toml that does not parse)."""
    _use_home(home)

    def body():
        from groove_core.store import migrations

        g = _groove(open_user=False)
        tiers, problems = g.available()
        rows = []
        for t in tiers:
            rows.append(
                {
                    "tier": t.name,
                    "engine": t.db.kind,
                    "location": t.db.location,
                    "schema_version": migrations.current_version(t.db),
                    "learnings": t.learnings.count(),
                    "unembedded": t.learnings.count_unembedded(),
                    "status": "ok",
                }
            )
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
    json_out: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Import rule files or a groove export; importing the same files again adds nothing."""
    _use_home(home)

    def body():
        from groove_core.io.importer import import_paths
        from groove_core.model.scope import Scope

        chosen_scope = Scope.parse(scope) if scope else None  # before the tier is created
        t = _groove().tier(tier)
        with _progress(disable=json_out) as bar:
            tasks: dict[str, int] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            report = import_paths(
                t,
                paths,
                scope=chosen_scope,
                skip_bad=skip_bad,
                on_conflict=on_conflict.value,
                progress=progress,
            )
        if json_out:
            _print_json({"tier": t.name, **report.to_json()})
            return
        out.print(
            f"{report.learnings_added} learnings added, {report.learnings_skipped} "
            f"already present, from {len(report.files)} files into tier '{t.name}'"
        )
        for stats in report.exports:
            if stats.conflicts:
                verb = "replaced" if on_conflict is OnConflict.replace else "kept the tier's"
                err.print(f"{len(stats.conflicts)} conflicting learnings ({verb}):")
                for lid in stats.conflicts:
                    err.print(f"  {lid}")
            if stats.duplicates:
                err.print(f"ids repeated within the file: {', '.join(stats.duplicates)}")
        for line in report.errors:
            err.print(f"[yellow]skipped:[/] {escape(line)}", markup=True, highlight=False)

    _run(body)


@app.command()
def export(
    file: Annotated[Path, typer.Argument(help="where to write the GrooveExport JSON")],
    tier: TierOpt = "user",
    home: HomeOpt = None,
) -> None:
    """Export a tier (learnings with usage stats, params, relations) as GrooveExport JSON."""
    _use_home(home)

    def body():
        from groove_core.io.export import export_file

        t = _groove().tier(tier)
        counts = export_file(t, file)
        out.print(
            f"exported {counts['learnings']} learnings, {counts['relations']} relations "
            f"and {counts['params']} params from tier '{t.name}' to {file}"
        )

    _run(body)


def _filter(scope, category, source):
    from groove_core.store.learnings import LearningFilter

    return LearningFilter(scope=scope, category=category, source_type=source)


def _tiers_arg(g, tier: str) -> list[str] | None:
    if tier == "all":
        g.available()
        return None
    return [g.resolve(tier)]


@app.command("list")
def list_(
    tier: Annotated[str, typer.Option(help="a tier, or 'all'")] = "user",
    scope: Annotated[str | None, typer.Option(help="only this scope")] = None,
    category: Annotated[str | None, typer.Option(help="only this category")] = None,
    source: Annotated[str | None, typer.Option(help="only this source type")] = None,
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
            _filter(scope, category, source),
            sort=sort.value,
            limit=limit,
            offset=offset,
        )
        rows = [lr.summary() for lr in page.items]
        if json_out:
            _print_json(rows)
            return
        if not rows:
            out.print("no learnings" + (f" from {offset + 1} on" if offset else ""))
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
    mode: Annotated[Mode, typer.Option(help="semantic, fulltext or hybrid")] = Mode.hybrid,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    tier: Annotated[str, typer.Option(help="a tier, or 'all'")] = "user",
    category: Annotated[str | None, typer.Option(help="only this category")] = None,
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
            flt=_filter(None, category, None) if category else None,
        )
        rows = [h.summary() for h in hits]
        if json_out:
            _print_json(rows)
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
            "source_detail": found.source.to_json(),
            "usage_stats": usage_to_json(t.learnings.usage(found.id)),
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

    _run(body)


@app.command()
def edit(
    learning_id: Annotated[str, typer.Argument(metavar="ID")],
    description: Annotated[str | None, typer.Option(help="new description")] = None,
    insight: Annotated[str | None, typer.Option(help="new insight")] = None,
    category: Annotated[str | None, typer.Option(help="new category")] = None,
    scope: Annotated[str | None, typer.Option(help="new scope")] = None,
    tier: TierOpt = "user",
    home: HomeOpt = None,
) -> None:
    """Edit a learning (recorded in its history; visible to the next search)."""
    _use_home(home)

    def body():
        if description is None and insight is None and category is None and scope is None:
            raise typer.BadParameter(
                "give at least one of --description, --insight, --category, --scope"
            )
        t = _groove().tier(tier)
        new = t.learnings.update(
            learning_id, description=description, insight=insight, category=category, scope=scope
        )
        out.print(f"updated {new.id} in tier '{t.name}'")

    _run(body)


@app.command()
def delete(
    learning_id: Annotated[str, typer.Argument(metavar="ID")],
    tier: TierOpt = "user",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
    home: HomeOpt = None,
) -> None:
    """Delete a learning with its usage stats, embedding and relations (undo: restore)."""
    _use_home(home)

    def body():
        t = _groove().tier(tier)
        found = t.learnings.require(learning_id)
        if not yes and not typer.confirm(
            f"Delete '{found.description[:60]}' from tier '{t.name}'?", err=True
        ):
            raise typer.Exit(1)
        t.learnings.delete(learning_id)
        out.print(f"deleted {learning_id}; undo with: groove restore {learning_id} --tier {t.name}")

    _run(body)


@app.command()
def reembed(tier: TierOpt = "user", home: HomeOpt = None) -> None:
    """Embed the learnings that have no embedding (e.g. written by another program), so
    semantic and hybrid search find them."""
    _use_home(home)

    def body():
        t = _groove().tier(tier)
        todo = t.learnings.count_unembedded()
        if not todo:
            out.print(f"every learning of tier '{t.name}' has an embedding")
            return
        with _progress() as bar:
            task = bar.add_task("embedding", total=todo)
            n = t.learnings.reembed(lambda k: bar.advance(task, k))
        out.print(f"embedded {n} learnings of tier '{t.name}'")

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
        t = _groove().tier(tier)
        lr = t.learnings.restore(learning_id)
        out.print(f"restored {lr.id} in tier '{t.name}'")

    _run(body)


@app.command()
def promote(
    learning_id: Annotated[str, typer.Argument(metavar="ID")],
    to: Annotated[str, typer.Option("--to", help="target tier")],
    home: HomeOpt = None,
) -> None:
    """Copy a learning to another tier (its source becomes Promoted)."""
    _use_home(home)

    def body():
        g = _groove()
        g.available()
        copy = g.promote(learning_id, to)
        out.print(f"promoted to tier '{copy.tier}' as {copy.id}")

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
            report = migrations.migrate(db, to)
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
    tier: TierOpt = "user",
    part: Annotated[Part, typer.Option(help="what to simulate")] = Part.all,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same data)")] = 0,
    sessions: Annotated[int, typer.Option(min=1, help="synthetic sessions")] = 300,
    experiments: Annotated[int, typer.Option(min=0, help="ablation experiments")] = 8,
    contexts: Annotated[int, typer.Option(min=40, help="synthetic fingerprints")] = 400,
    corpus: Annotated[
        Path | None, typer.Option(help="folder of rule files whose lines become familiar contexts")
    ] = None,
    remove: Annotated[
        bool,
        typer.Option(
            "--remove", help="remove the simulated data again (restores usage stats exactly)"
        ),
    ] = False,
    home: HomeOpt = None,
) -> None:
    """Fill a tier with SYNTHETIC data for the evidence and open-world pages.

    Attribution: sessions "sim-<seed>-*", outcomes, attribution records,
    ablation experiments and adaptive parameters from a seeded model with a
    known true effect per learning. Open world: fingerprints from the tier's
    learnings (and --corpus), novel contexts, clusters, gaps, failures and
    events. Everything is marked synthetic, in the data and on the dashboard;
    --remove deletes it again and restores usage stats, confidences and
    parameters exactly.
    """
    _use_home(home)

    def body():
        from groove_core import simulate as sim

        t = _groove().tier(tier)
        do_attr = part in (Part.all, Part.attribution)
        do_ow = part in (Part.all, Part.openworld)
        if remove:
            if do_attr:
                runs = sim.remove_attribution_simulation(t)
                out.print(f"removed {len(runs)} attribution simulation run(s) from '{t.name}'")
            if do_ow:
                counts = sim.remove_openworld_simulation(t)
                out.print(f"removed open-world simulation rows from '{t.name}': {counts}")
            return
        with _progress(counts=False) as bar:
            task = bar.add_task("simulating", total=1.0)
            if do_attr:
                report = sim.simulate_attribution(
                    t,
                    seed=seed,
                    sessions=sessions,
                    experiments=experiments,
                    progress=lambda f, m: bar.update(task, completed=f, description=m),
                )
                out.print(report.summary())
            if do_ow:
                report = sim.simulate_openworld(
                    t,
                    seed=seed,
                    corpus_dir=corpus,
                    n_contexts=contexts,
                    progress=lambda m, f: bar.update(task, completed=f, description=m),
                )
                out.print(
                    f"SYNTHETIC open-world data written to tier '{t.name}': "
                    f"{report.summary()}. Remove it with: groove simulate --remove"
                )

    _run(body)


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="port to serve on")] = 8501,
    address: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    home: HomeOpt = None,
) -> None:
    """Open the dashboard (Streamlit) on the groove home; its project tier and import offer
    are those of the project you start it in."""
    _use_home(home)
    from groove_core.config import home_dir
    from groove_core.tiers import find_project_root

    chosen = home_dir(os.environ.get("GROOVE_HOME"))
    project = find_project_root()
    app_file = Path(__file__).resolve().parent.parent / "dashboard" / "streamlit_app.py"
    env = {
        **os.environ,
        "GROOVE_HOME": str(chosen),
        "GROOVE_PROJECT": str(project),
        "HF_HUB_OFFLINE": "1",
    }
    out.print(
        f"groove dashboard on http://{address}:{port} (home: {chosen}, project: {project}); "
        "Ctrl+C stops it"
    )
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_file),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
    ]
    raise typer.Exit(subprocess.call(cmd, env=env, cwd=app_file.parent.parent))


if __name__ == "__main__":
    app()
