"""The `pbload` command line: options -> Settings -> one library call -> exit code (DESIGN §8).

Exit codes: 0 every row loaded (or valid); 1 the run finished but some rows failed, were invalid,
blocked or not sent; 2 nothing could be run (usage, workbook, settings, credentials, network).

What a run prints (`loader.console` renders it): progress on stderr while it works; then on stdout
the counts per sheet, notes, the problems grouped by code and the result's path. `--quiet` keeps
only the counts and the result's path (errors and the stop message still go to stderr); `--json`
prints the run as one JSON document on stdout and everything else on stderr.

Start-up: `pbload --help` and `--version` import click and a few light modules only. pandas, httpx,
openpyxl, the emulator and the rest are imported inside the commands that use them, and option
defaults and choices come from `loader.choices`; tests/test_startup.py guards the import list.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from loader import __version__
from loader.choices import ADVANCE_RESOURCES, ENVIRONMENTS, LOCAL_API_KEY, LOCAL_API_SECRET, LOCAL_CLIENT_ID
from loader.errors import PbloadError
from loader.models import RunReport
from loader.redact import redact

if TYPE_CHECKING:
    import httpx

    from loader import console, pipeline
    from loader.settings import Settings

EXIT_OK, EXIT_ROWS_FAILED, EXIT_NOT_RUN = 0, 1, 2
MAX_CHANGES_SHOWN = 10  # columns `pbload plan` names, the most changed first


class Failure(click.ClickException):
    """A PbloadError as the CLI shows it: the message, and exit code 2 (under --json, a document too)."""

    exit_code = EXIT_NOT_RUN

    def __init__(self, message: str) -> None:
        super().__init__(message)
        ctx = click.get_current_context(silent=True)  # gone by the time click calls show()
        self.as_json = ctx.info_name if ctx is not None and _mode(ctx, "json") else None

    def show(self, file: Any = None) -> None:
        from loader import console

        message = _masked(self.format_message())
        if self.as_json:  # a script reading stdout learns that nothing ran, and why
            click.echo(
                json.dumps(
                    {
                        "version": console.DOCUMENT_VERSION,
                        "command": self.as_json,
                        "exit_code": EXIT_NOT_RUN,
                        "error": message,
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
        click.echo(f"Error: {message}", err=True)


def _masked(text: str) -> str:
    """TEXT with every secret of the environment masked (loader.settings knows them; imported when needed)."""
    from loader.settings import known_secrets

    return redact(text, known_secrets())


def _print_traceback() -> None:
    """--debug: the exception being handled, with its causes, and no secret in any of their texts."""
    click.echo(_masked(traceback.format_exc()), err=True, nl=False)


def _redacting_excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    """A bug's traceback (not a PbloadError) goes through the same mask before Python prints it."""
    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(_masked(text))


_DEBUG_HELP = "Show the full traceback when something goes wrong, and each stage's seconds."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pbload")
@click.option("--debug", is_flag=True, help=_DEBUG_HELP)
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Load Excel workbooks into the Pitney Bowes Fulfillment APIs.

    Examples:

    \b
      pbload template orders -o orders.xlsx     # a blank workbook to fill in
      pbload validate orders.xlsx               # check every row, send nothing
      pbload load orders.xlsx --env sandbox     # load it (credentials in PB_CLIENT_ID, PB_API_KEY, PB_API_SECRET)
    """
    ctx.obj = {"debug": debug}
    sys.excepthook = _redacting_excepthook


def _mode(ctx: click.Context, name: str) -> bool:
    """A flag kept for the whole command line (--debug, --quiet, --json), wherever it was given."""
    return bool((ctx.find_root().obj or {}).get(name))


def _remember(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        root = ctx.find_root()
        root.obj = {**(root.obj or {}), param.name: True}


_quiet = click.option(
    "--quiet",
    "-q",
    is_flag=True,
    expose_value=False,
    callback=_remember,
    help="Print only the counts per sheet and the result's path (and errors); no progress.",
)
_json = click.option(
    "--json",
    "json",
    is_flag=True,
    expose_value=False,
    callback=_remember,
    help="Print the run's report as one JSON document on stdout (counts, problems, result, run ID, "
    "exit code); everything else goes to stderr.",
)


def _say(ctx: click.Context, line: str, err: bool = False) -> None:
    """A line that is not the run's report: on stderr under --json, not at all under --quiet."""
    if not _mode(ctx, "quiet"):
        click.echo(line, err=err or _mode(ctx, "json"))


def _refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise Failure(
            f"{path} already exists, and pbload never overwrites a file unasked. Add --force to replace "
            "it, or give another file name with -o."
        )


_force = click.option("--force", is_flag=True, help="Replace the output file if it exists.")


@main.command()
@click.argument("resources", nargs=-1)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the template (default: RESOURCE.xlsx, or pbload-template.xlsx for all).",
)
@_force
def template(resources: tuple[str, ...], output: Path | None, force: bool) -> None:
    """Write a blank template workbook for RESOURCES (products, boms, work-orders, asns, orders, returns, all).

    Examples:

    \b
      pbload template orders                     # orders.xlsx
      pbload template products orders -o new.xlsx
    """
    from loader.workbook.templates import template_name, write_template

    chosen = _resources(resources or ("all",))
    path = output or Path(f"{template_name(chosen)}.xlsx")
    _refuse_overwrite(path, force)
    click.echo(f"Wrote {write_template(chosen, path)}")


def _resources(names: tuple[str, ...]) -> tuple[Any, ...]:
    from loader.resources import BY_NAME, RESOURCES

    if "all" in names:
        return RESOURCES
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise click.BadParameter(
            f"unknown resource {', '.join(unknown)}; choose from all, {', '.join(BY_NAME)}.",
            param_hint="RESOURCES",
        )
    return tuple(BY_NAME[n] for n in names)


_workbook = click.argument("workbook", type=click.Path(path_type=Path, dir_okay=False))
_output = click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the result workbook (default: WORKBOOK.result.xlsx beside it).",
)
_strict = click.option(
    "--strict", is_flag=True, default=None, help="Treat warnings as errors (or PBLOAD_STRICT)."
)
_progress = click.option("--no-progress", is_flag=True, help="Do not show progress on stderr.")
_state_dir = click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where pbload keeps its state (or PBLOAD_STATE_DIR).",
)
_env = click.option(
    "--env",
    type=click.Choice(ENVIRONMENTS),
    help="Which API (or PBLOAD_ENV; default: sandbox with PB_* credentials set, else local).",
)
_base_url = click.option(
    "--base-url",
    help="The API's server root, e.g. http://127.0.0.1:8790 for `pbload emulator "
    "serve` (or PBLOAD_BASE_URL).",
)
# Called with the finished run's report to e-mail its result workbook (--email-to).
Mailer = Callable[[RunReport], None]


def _addresses(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:  # called for every run, with or without --email-to: no need for loader.notify then
        return ()
    from loader import notify

    try:
        return tuple(notify.check_addresses(value))
    except PbloadError as exc:
        raise click.BadParameter(str(exc)) from None


_email_to = click.option(
    "--email-to",
    multiple=True,
    metavar="ADDR",
    callback=_addresses,
    help="E-mail the result workbook to ADDR afterwards (repeat for more addresses).",
)
_payloads = click.option(
    "--payloads",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE.jsonl",
    help="Write each item's JSON body, with its sheet and rows, to FILE.jsonl (one per line).",
)


@main.command()
@_workbook
@_output
@_env
@_base_url
@click.option(
    "--offline",
    is_flag=True,
    help="Make no look-ups at the API (unknown SKUs, UPDATE of items PB does "
    "not have, ...): check the workbook alone.",
)
@_strict
@_state_dir
@_progress
@_quiet
@_json
@_payloads
@_email_to
@click.pass_context
def validate(
    ctx: click.Context,
    workbook: Path,
    output: Path | None,
    env: str | None,
    base_url: str | None,
    offline: bool,
    strict: bool | None,
    state_dir: Path | None,
    no_progress: bool,
    payloads: Path | None,
    email_to: tuple[str, ...],
) -> None:
    """Check every row of WORKBOOK without sending anything.

    Makes the read-only look-ups a load would (SKUs PB does not know, UPDATE or CANCEL of items it
    does not have, CREATE of items it has) in the API chosen by --env, unless --offline.

    Examples:

    \b
      pbload validate orders.xlsx
      pbload validate orders.xlsx --offline --json > report.json
    """
    from loader import pipeline

    settings = _settings(
        ctx, env=env or ("local" if offline else None), base_url=base_url, strict=strict, state_dir=state_dir
    )
    mail = _mailer(ctx, email_to)
    # which account the look-ups ask (never where it sends)
    if not (offline or settings.uses_builtin_emulator):
        _say(ctx, _environment_line(settings, "read-only look-ups"))
    timings = pipeline.Timings()
    with _progress_display(ctx, no_progress) as progress:
        report = _run(
            ctx,
            lambda: pipeline.validate(
                workbook,
                settings,
                output,
                timings=timings,
                payloads=payloads,
                offline=offline,
                progress=progress,
                transport=None if offline else _transport(settings),
            ),
        )
    _show_timings(ctx, timings)
    _finish(ctx, report, mail)


@main.command()
@_workbook
@_output
@_env
@_base_url
@click.option("--chunk-size", type=int, help="Items per bulk call (at most 200; or PBLOAD_CHUNK_SIZE).")
@click.option(
    "--concurrency",
    type=int,
    help="Requests in flight at once (default 4; or PBLOAD_CONCURRENCY); one-call items (ASNs, BOMs, work orders) may grow to 16.",
)
@click.option(
    "--max-rps", type=float, help="Requests per second per operation (default 100; or PBLOAD_MAX_RPS)."
)
@_strict
@_state_dir
@_progress
@_quiet
@_json
@_payloads
@_email_to
@click.pass_context
def load(
    ctx: click.Context,
    workbook: Path,
    output: Path | None,
    env: str | None,
    base_url: str | None,
    chunk_size: int | None,
    concurrency: int | None,
    max_rps: float | None,
    strict: bool | None,
    state_dir: Path | None,
    no_progress: bool,
    payloads: Path | None,
    email_to: tuple[str, ...],
) -> None:
    """Check WORKBOOK and load its valid rows into the Fulfillment API.

    Loading the same workbook again finishes a run that was cut short and sends nothing twice.

    Examples:

    \b
      pbload load orders.xlsx                   # into the built-in emulator (no credentials set)
      pbload load orders.xlsx --env sandbox --email-to ops@example.com
    """
    settings = _settings(
        ctx,
        env=env,
        base_url=base_url,
        chunk_size=chunk_size,
        concurrency=concurrency,
        max_rps=max_rps,
        strict=strict,
        state_dir=state_dir,
    )
    _load(ctx, workbook, settings, output, no_progress, _mailer(ctx, email_to), payloads)


@main.command(name="plan")
@_workbook
@_output
@_env
@_base_url
@_strict
@_progress
@_quiet
@_json
@click.pass_context
def plan_command(
    ctx: click.Context,
    workbook: Path,
    output: Path | None,
    env: str | None,
    base_url: str | None,
    strict: bool | None,
    no_progress: bool,
) -> None:
    """Show what loading WORKBOOK would do, row by row and field by field, writing nothing to PB.

    Makes only the look-ups of a load; the result workbook says WOULD CREATE, WOULD UPDATE (with
    its changes), UNCHANGED or WOULD CANCEL for each row, and every problem the checks found.

    Examples:

    \b
      pbload plan orders.xlsx --env sandbox
      pbload plan products.xlsx --json | jq '.changes'
    """
    from loader import pipeline
    from loader.workbook.result.content import change_counts

    settings = _settings(ctx, env=env, base_url=base_url, strict=strict)
    _say(ctx, _environment_line(settings))
    timings = pipeline.Timings()
    with _graceful_stop() as stop, _progress_display(ctx, no_progress) as progress:
        report = _run(
            ctx,
            lambda: pipeline.plan(
                workbook,
                settings,
                output,
                timings=timings,
                transport=_transport(settings),
                stop=stop,
                progress=progress,
            ),
        )
    _show_timings(ctx, timings)
    changes = change_counts(report)
    _finish(
        ctx,
        report,
        then=[
            f"{sheet}: {rows} row{'' if rows == 1 else 's'} would change {column}"
            for sheet, column, rows in changes[:MAX_CHANGES_SHOWN]
        ],
        extra={
            "changes": [{"sheet": sheet, "column": column, "rows": rows} for sheet, column, rows in changes]
        },
    )


def _load(
    ctx: click.Context,
    workbook: Path,
    settings: Settings,
    output: Path | None,
    no_progress: bool,
    mail: Mailer | None = None,
    payloads: Path | None = None,
) -> None:
    from loader import pipeline

    _say(ctx, _environment_line(settings))
    timings = pipeline.Timings()
    with _graceful_stop() as stop, _progress_display(ctx, no_progress) as progress:
        report = _run(
            ctx,
            lambda: pipeline.load(
                workbook,
                settings,
                output,
                progress=progress,
                timings=timings,
                transport=_transport(settings),
                stop=stop,
                payloads=payloads,
            ),
        )
    _show_timings(ctx, timings)
    if report.interrupted:
        click.echo(
            f"Stopped before every row was sent. Run `pbload resume {report.run_id}` (or load the same "
            "workbook again) to finish.",
            err=True,
        )
    _finish(ctx, report, mail)


def _show_timings(ctx: click.Context, timings: pipeline.Timings) -> None:
    if _mode(ctx, "debug"):
        click.echo(
            f"Seconds: read {timings.read:.2f}, check {timings.check:.2f}, send {timings.send:.2f}, "
            f"write {timings.write:.2f}",
            err=True,
        )


@contextmanager
def _graceful_stop() -> Iterator[threading.Event]:
    """Ctrl-C or SIGTERM gives requests in flight a few seconds and writes the result; a second stops at once.

    Requests still unanswered after `STOP_GRACE_SECONDS` are abandoned: their rows stay in the journal
    as in flight, and the next load looks them up at PB before sending anything again.
    """
    from loader.send import STOP_GRACE_SECONDS
    from loader.workbook.result import discard_temporaries  # imported now: not inside a signal handler

    stop = threading.Event()

    def first(signum: int, frame: Any) -> None:
        stop.set()
        click.echo(
            f"\nStopping: letting the requests in flight finish (at most {STOP_GRACE_SECONDS:g} seconds), "
            "then writing the result workbook. Press Ctrl-C again to stop at once.",
            err=True,
        )
        signal.signal(signal.SIGINT, at_once)
        signal.signal(signal.SIGTERM, at_once)

    def at_once(signum: int, frame: Any) -> None:
        click.echo("Stopped at once. Load the same workbook again (or `pbload resume`) to finish.", err=True)
        discard_temporaries()  # os._exit runs no `finally`: a half-written result must not stay behind
        os._exit(EXIT_ROWS_FAILED)  # the journal is committed as it goes: nothing else to save

    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals can only be caught on the main thread (e.g. under a test runner's thread)
        return
    previous = signal.signal(signal.SIGINT, first), signal.signal(signal.SIGTERM, first)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


@main.command()
@click.argument("run_id", required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the result workbook (default: where the run was to write it).",
)
@_state_dir
@_progress
@_quiet
@_json
@click.pass_context
def resume(
    ctx: click.Context, run_id: str | None, output: Path | None, state_dir: Path | None, no_progress: bool
) -> None:
    """Finish a run that was cut short (the newest unfinished one, or RUN_ID).

    A run whose result workbook could not be written gets it written from the journal, sending nothing.

    Examples:

    \b
      pbload resume                  # the newest unfinished run
      pbload resume 3f2a9c1b7d4e     # a run that `pbload runs` lists
    """
    from loader import runs

    base = _settings(ctx, env="local", state_dir=state_dir)
    found = _run(ctx, lambda: runs.resumption(base.state_dir, run_id))
    if found.nothing is not None:
        _nothing_to_do(ctx, found.nothing, found.run.run_id if found.run else None)
        return
    if found.write_only:
        _write_kept(ctx, found.run_id, base, output)
        return
    settings = _settings(ctx, state_dir=state_dir, **found.settings_flags())
    _say(ctx, f"Resuming run {found.run_id} of {found.input_path}.")
    _load(ctx, found.input_path, settings, output or found.output, no_progress)


def _nothing_to_do(ctx: click.Context, message: str, run_id: str | None = None) -> None:
    """A command that had nothing to run says so; under --json as a document with exit code 0."""
    from loader import console

    if _mode(ctx, "json"):
        click.echo(
            json.dumps(
                {
                    "version": console.DOCUMENT_VERSION,
                    "command": ctx.info_name,
                    "run_id": run_id,
                    "exit_code": EXIT_OK,
                    "message": message,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        click.echo(message)


def _write_kept(ctx: click.Context, run_id: str, settings: Settings, output: Path | None) -> None:
    """The run sent everything it was going to; only its result workbook is missing."""
    from loader import pipeline

    _say(ctx, f"Writing the result workbook of run {run_id} from the journal; nothing is sent.")
    report = _run(ctx, lambda: pipeline.write_kept_result(run_id, settings, output))
    if report.interrupted:
        click.echo(
            f"Stopped before every row was sent. Run `pbload resume {report.run_id}` (or load the same "
            "workbook again) to finish.",
            err=True,
        )
    _finish(ctx, report)


@main.command()
@_state_dir
@click.option("-n", "--limit", default=20, show_default=True, help="How many runs to list.")
@click.pass_context
def runs(ctx: click.Context, state_dir: Path | None, limit: int) -> None:
    """List recent runs with their counts.

    Examples:

    \b
      pbload runs
      pbload runs -n 5 --state-dir ./pbload-state
    """
    from loader import runs as kept

    settings = _settings(ctx, env="local", state_dir=state_dir)
    records = _run(ctx, lambda: kept.recent_runs(settings.state_dir, limit))
    if not records:
        click.echo("No runs yet.")
    for r in records:
        counts = ", ".join(f"{n} {status.lower()}" for status, n in r.counts.items()) or "no rows settled"
        click.echo(
            f"{r.run_id}  {r.started[:19].replace('T', ' ')}  {r.state:<11}  {r.environment:<10}  "
            f"{Path(r.input_path).name}: {counts}"
        )
    for r in kept.without_result(records):
        click.echo(
            f"Run {r.run_id} has no result workbook yet: `pbload resume {r.run_id}` writes it from the "
            "journal, sending nothing."
        )


def _transport(settings: Settings) -> Callable[[], httpx.BaseTransport] | None:
    """The `local` environment's API: the built-in emulator, in this process, on its SQLite file, made when
    the run first calls the API (None: the environment's API over HTTP)."""
    if not settings.uses_builtin_emulator:
        return None

    def emulator() -> httpx.BaseTransport:
        import httpx

        from loader.emulator import create_app

        return httpx.WSGITransport(app=create_app(settings.emulator_db))

    return emulator


def _settings(ctx: click.Context, **flags: Any) -> Settings:
    from loader.settings import load_settings

    return _run(ctx, lambda: load_settings(flags))


def _run(ctx: click.Context, call: Callable[[], Any]) -> Any:
    """Run a library call; a PbloadError becomes its message and exit code 2."""
    try:
        return call()
    except PbloadError as exc:
        if ctx.find_root().obj.get("debug"):
            _print_traceback()
        raise Failure(str(exc)) from exc


def _environment_line(settings: Settings, calls: str = "") -> str:
    if settings.uses_builtin_emulator:
        return (
            f"Environment local: the built-in emulator of the Fulfillment API (state in "
            f"{settings.emulator_db}); nothing is sent to Pitney Bowes."
        )
    return f"Environment {settings.env}: {settings.base_url} as client {settings.client_id}" + (
        f", {calls} only." if calls else "."
    )


@contextmanager
def _progress_display(ctx: click.Context, no_progress: bool) -> Iterator[console.Progress]:
    from loader import console

    with console.progress_display(sys.stderr, not (no_progress or _mode(ctx, "quiet"))) as progress:
        yield progress


def _finish(
    ctx: click.Context,
    report: RunReport,
    mail: Mailer | None = None,
    then: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Say what came of the run (`then`: lines after the counts; `extra`: --json fields), exit with its code."""
    from loader import console

    code = EXIT_OK if report.all_ok else EXIT_ROWS_FAILED
    notes = list(report.notes)
    if _mode(ctx, "json"):
        document = console.report_document(report, code, notes, extra)
        click.echo(_masked(json.dumps(document, ensure_ascii=False, indent=2)))
    elif _mode(ctx, "quiet"):
        for line in [*console.count_lines(report), f"Result: {report.result_path}"]:
            click.echo(line)
    else:
        for line in console.summary_lines(report, notes, then or []):
            click.echo(line)
    if mail is not None:
        mail(report)
    sys.exit(code)


def _mailer(ctx: click.Context, to: tuple[str, ...]) -> Mailer | None:
    """What e-mails the result after the run, if --email-to asks; its settings are checked now, before it."""
    if not to:
        return None
    from loader import notify
    from loader.settings import load_smtp_settings

    smtp = _run(ctx, load_smtp_settings)
    _run(ctx, lambda: notify.check_ready(smtp))

    def mail(report: RunReport) -> None:
        path = Path(report.result_path or "")
        try:
            notify.email_result(notify.summary_from_report(report), path, to, smtp)
        except PbloadError as exc:  # the run's exit code stands: the result workbook is there
            if ctx.find_root().obj.get("debug"):
                _print_traceback()
            again = " ".join(f"--to {a}" for a in to)
            message = _masked(str(exc))
            click.echo(
                f"Error: {message} The result workbook is still at {path}; send it later with "
                f"`pbload email {path} {again}`.",
                err=True,
            )
            return
        _say(ctx, f"E-mailed {path.name} to {', '.join(to)}.")

    return mail


@main.command(name="email")
@click.argument("result", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--to",
    "to",
    multiple=True,
    required=True,
    metavar="ADDR",
    callback=_addresses,
    help="Address to send it to (repeat for more addresses).",
)
@click.pass_context
def email_command(ctx: click.Context, result: Path, to: tuple[str, ...]) -> None:
    """Send a result workbook by e-mail.

    RESULT is a .result.xlsx that pbload load or validate wrote; the subject carries its counts. The
    mail server is set in PBLOAD_SMTP_HOST, PBLOAD_SMTP_PORT, PBLOAD_SMTP_TLS, PBLOAD_SMTP_USER and
    PBLOAD_SMTP_PASSWORD, the sender in PBLOAD_MAIL_FROM (or under [smtp] in pbload.toml).

    Examples:

    \b
      pbload email orders.result.xlsx --to ops@example.com
      pbload email orders.result.xlsx --to ops@example.com --to lead@example.com
    """
    from loader import notify
    from loader.settings import load_smtp_settings

    smtp = _run(ctx, load_smtp_settings)
    _run(ctx, lambda: notify.email_result(notify.summary_from_result(result), result, to, smtp))
    click.echo(f"E-mailed {result.name} to {', '.join(to)}.")


@main.command(name="export")
@click.argument("what", metavar="WHAT", type=click.Choice(["products", "orders", "inventory", "shipments"]))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the workbook (default: WHAT-export.xlsx).",
)
@_force
@_env
@_base_url
@_state_dir
@click.pass_context
def export_command(
    ctx: click.Context,
    what: str,
    output: Path | None,
    force: bool,
    env: str | None,
    base_url: str | None,
    state_dir: Path | None,
) -> None:
    """Export PB's products, orders, inventory or shipments (WHAT) to a workbook.

    Examples:

    \b
      pbload export products                    # products-export.xlsx
      pbload export orders --env sandbox -o orders-now.xlsx
    """
    from loader import pipeline

    settings = _settings(ctx, env=env, base_url=base_url, state_dir=state_dir)
    target = output or Path(f"{what}-export.xlsx")
    _refuse_overwrite(target, force)
    click.echo(_environment_line(settings))
    path, count = _run(ctx, lambda: pipeline.export(what, settings, target, _transport(settings)))
    noun = _EXPORT_NOUNS[what] + ("" if count == 1 else "s")
    click.echo(f"Exported {count} {noun} to {path}")


_EXPORT_NOUNS = {
    "products": "product",
    "orders": "order",
    "inventory": "stock record",
    "shipments": "shipment",
}


@main.command()
@_env
@_base_url
@click.pass_context
def doctor(ctx: click.Context, env: str | None, base_url: str | None) -> None:
    """Check the contract's guesses about PB's API (the bets) against a real account.

    Makes read-only calls only: a token, one small search per resource, a search for each record
    found by its own key, and a GET of a SKU that cannot exist. The one other call is a products
    bulk UPDATE of that random SKU without the required details, which PB must refuse: it cannot
    create or change anything. Prints each bet as confirmed, contradicted or not seen, then the error
    body shape, the token's fields, clock skew, latency and throttling. Exit code 0: nothing
    contradicted; 1: some bet contradicted; 2: doctor could not run.

    Examples:

    \b
      pbload doctor --env sandbox
      pbload doctor --base-url http://127.0.0.1:8790     # a served emulator
    """
    from loader.doctor import format_report, require_account, run_doctor

    settings = _settings(ctx, env=env, base_url=base_url)
    _run(ctx, lambda: require_account(settings))
    click.echo(_environment_line(settings) + " Read-only calls only.")
    report = _run(ctx, lambda: run_doctor(settings))
    for line in format_report(report):
        click.echo(line)
    sys.exit(report.exit_code)


@main.group()
def emulator() -> None:
    """The built-in emulator of the Fulfillment API: serve it over HTTP, move its orders along.

    Examples:

    \b
      pbload emulator serve --port 8790
      pbload emulator advance orders PO-1001 SHIPPED
    """


def _latency(value: str | None) -> float | tuple[float, float]:
    if not value:
        return 0
    low, _, high = value.partition("-")
    try:
        return (float(low), float(high)) if high else float(low)
    except ValueError:
        raise click.BadParameter(
            f"'{value}' is not N or LOW-HIGH milliseconds.", param_hint="--latency-ms"
        ) from None


@emulator.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8790, show_default=True, type=int, help="Port to listen on (0: any free one)."
)
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    help="SQLite file for the emulator's state (default: the local environment's, in PBLOAD_STATE_DIR; "
    "':memory:' for none).",
)
@click.option(
    "--client-id", default=LOCAL_CLIENT_ID, show_default=True, help="The one client account it serves."
)
@click.option("--api-key", default=LOCAL_API_KEY, show_default=True, help="API key it accepts.")
@click.option("--api-secret", default=LOCAL_API_SECRET, show_default=True, help="API secret it accepts.")
@click.option("--latency-ms", help="Delay every answer by N, or by LOW-HIGH, milliseconds.")
@click.option(
    "--fail-rate", type=click.FloatRange(0, 1), default=0, help="Share of calls answered 500 or 503."
)
@click.option(
    "--throttle-rate", type=click.FloatRange(0, 1), default=0, help="Share answered 429 with Retry-After."
)
@click.option(
    "--retry-after", type=float, default=1, show_default=True, help="Seconds in Retry-After of a 429."
)
@click.option(
    "--drop-rate", type=click.FloatRange(0, 1), default=0, help="Share of connections dropped unanswered."
)
@click.option(
    "--lost-rate",
    type=click.FloatRange(0, 1),
    default=0,
    help="Share of calls carried out whose answer is then lost.",
)
@click.option("--token-ttl", type=float, help="Seconds a token lives (default: 35999).")
@click.option("--rate-limit", type=float, help="Requests per second allowed per operation; more get 429.")
@click.option("--seed", type=int, help="Seed that makes the faults repeat exactly.")
@click.option("--verbose", is_flag=True, help="Log every request.")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    db: Path | None,
    client_id: str,
    api_key: str,
    api_secret: str,
    latency_ms: str | None,
    fail_rate: float,
    throttle_rate: float,
    retry_after: float,
    drop_rate: float,
    lost_rate: float,
    token_ttl: float | None,
    rate_limit: float | None,
    seed: int | None,
    verbose: bool,
) -> None:
    """Serve the emulator over HTTP until Ctrl-C.

    Examples:

    \b
      pbload emulator serve                               # http://127.0.0.1:8790
      pbload emulator serve --fail-rate 0.1 --seed 3      # with faults, the same each time
    """
    from loader.emulator import EmulatorConfig
    from loader.emulator.faults import Faults
    from loader.emulator.server import exposure_warning
    from loader.emulator.server import serve as serve_emulator

    if fail_rate + throttle_rate + drop_rate + lost_rate > 1:
        raise click.BadParameter("the fault rates add up to more than 1.", param_hint="--fail-rate")
    db_path = None if str(db) == ":memory:" else (db or _settings(ctx, env="local").emulator_db)
    faults = Faults(
        seed=seed,
        latency_ms=_latency(latency_ms),
        error_rate=fail_rate,
        throttle_rate=throttle_rate,
        retry_after_s=retry_after,
        drop_rate=drop_rate,
        lost_after_commit_rate=lost_rate,
        token_ttl_s=token_ttl,
        rate_limit_per_s=rate_limit,
    )
    config = EmulatorConfig(client_id=client_id, api_key=api_key, api_secret=api_secret)
    warning = exposure_warning(host)
    if warning:
        click.echo(warning, err=True)
    try:
        serve_emulator(host, port, db_path, config, faults, out=click.echo, verbose=verbose)
    except OSError as exc:
        raise Failure(
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}). Choose another --port."
        ) from exc


@emulator.command()
@click.argument(
    "resource", metavar="RESOURCE", type=click.Choice(sorted(ADVANCE_RESOURCES), case_sensitive=False)
)
@click.argument("key")
@click.argument("status")
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The emulator's SQLite file (default: the local environment's, in PBLOAD_STATE_DIR).",
)
@click.option("--base-url", help="A served emulator's root URL, instead of --db (or PBLOAD_BASE_URL).")
@click.pass_context
def advance(
    ctx: click.Context, resource: str, key: str, status: str, db: Path | None, base_url: str | None
) -> None:
    """Move an order, ASN, work order or return to STATUS, as the warehouse would.

    RESOURCE is order, asn, work-order or return (or the plural). KEY is PB's ID or your own (Client Order ID, ...). Receiving an
    ASN adds stock; shipping an order takes it away and creates a shipment with a tracking number.

    Examples:

    \b
      pbload emulator advance orders PO-1001 SHIPPED
      pbload emulator advance asns ASN-7 RECEIVED --base-url http://127.0.0.1:8790
    """
    from loader.emulator import control

    settings = _settings(ctx, env="local", base_url=base_url)
    db_path = None if base_url else (db or settings.emulator_db)
    # a served emulator wants its credentials: PB_API_KEY/PB_API_SECRET, else the emulator's defaults
    credentials = (settings.api_key, settings.api_secret)
    try:
        record = control.advance(resource, key, status, db_path, base_url, credentials)
    except control.ControlError as exc:
        raise Failure(str(exc)) from exc
    click.echo(f"{resource} {key} is now {record.get('status', status.upper())}.")


def _debug_everywhere(group: click.Group) -> None:
    """`--debug` after the command too (`pbload load x --debug`), as before it: every command takes it."""
    for command in group.commands.values():
        command.params.append(
            click.Option(["--debug"], is_flag=True, expose_value=False, callback=_remember, help=_DEBUG_HELP)
        )
        if isinstance(command, click.Group):
            _debug_everywhere(command)


_debug_everywhere(main)
