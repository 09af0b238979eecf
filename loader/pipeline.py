"""The only place where the stages meet: read -> check -> plan -> send -> write (DESIGN §3)."""

from __future__ import annotations

import gc
import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from loader.api import FulfillmentClient
from loader.api.client import timeout
from loader.api.retry import RetryPolicy
from loader.checks import CheckedSheet, check_sheet
from loader.codes import Code
from loader.errors import ApiError, JournalError, PbloadError, ResultError, SettingsError, WorkbookError
from loader.export import export as export_records
from loader.journal import IN_FLIGHT, UNWRITTEN, Journal, RunRecord
from loader.models import LOADED_STATUSES, Item, Outcome, RunReport, SheetReport, Status
from loader.payloads import PayloadLog
from loader.plan import Dependencies, plan_sheet
from loader.resources import Resource
from loader.resources.products import PRODUCTS
from loader.runlock import RunLock
from loader.runs import RESUMED_SETTINGS
from loader.send import Recorder, Stopped, known_keys, sender_for
from loader.settings import Settings
from loader.workbook.reader import WorkbookData, read_workbook
from loader.workbook.result import check_writable, result_path_for, write_problem, write_result

# The in-process emulator answers any host; this one names it in messages.
LOCAL_BASE_URL = "http://emulator.local"
# Called as progress(phase, done, total, failed) while a run goes on: `phase` says what is being done
# ("Checking Orders", "Sending Orders"), counts are rows; a phase starts at 0 and ends with done == total;
# total 0: not known yet.
Progress = Callable[[str, int, int, int], None]
# How the API is reached instead of over HTTP (a test's recorder, the built-in emulator): a transport, or
# what makes one when the run first calls the API.
Transport = httpx.BaseTransport | Callable[[], httpx.BaseTransport]


def _no_progress(phase: str, done: int, total: int, failed: int = 0) -> None:
    pass


@dataclass
class Timings:
    """Seconds spent in each stage (for the benchmark and --debug)."""

    read: float = 0.0
    check: float = 0.0
    plan: float = 0.0  # also counted in `send` when the run looks items up
    send: float = 0.0
    write: float = 0.0


def validate(
    path: Path,
    settings: Settings,
    output: Path | None = None,
    timings: Timings | None = None,
    payloads: Path | None = None,
    offline: bool = False,
    progress: Progress = _no_progress,
    transport: Transport | None = None,
    stop: threading.Event | None = None,
) -> RunReport:
    """Check every row of the workbook, sending nothing; write the result workbook.

    Unless `offline`, the same read-only look-ups as `load` find what the sheets cannot say: SKUs PB
    does not have, UPDATE or CANCEL of items PB does not have, CREATE of items it has. When PB cannot be
    reached, the look-ups are skipped and the report's notes say so. With `payloads`, each valid item's
    body is written there as `load` would send it (bulk items without their `operation`, which `load`
    decides after looking the item up at PB).
    """
    if not offline:
        _require_transport(settings, transport)
    timings = timings or Timings()
    stop = stop or threading.Event()
    report, book, checked = _read_and_check(path, settings, "validate", output, timings, progress=progress)
    _check_payloads_path(payloads, path, output)
    if offline:
        report.notes.append(OFFLINE_NOTE)
        _validate_sheets(report, checked, settings, None, payloads, stop, progress, timings)
    else:
        try:
            with _timed(timings, "send"), _client(settings, transport) as client:
                _validate_sheets(report, checked, settings, client, payloads, stop, progress, timings)
                report.retries = client.stats.total_retries
        except ApiError as exc:
            for sheet in report.sheets:
                sheet.outcomes.clear()
            report.issues = [i for i in report.issues if i.code != Code.UNKNOWN_SKU]
            report.notes.append(
                f"{exc} So pbload checked the rows without looking them up: {LOOKUPS_SKIPPED}"
            )
            _validate_sheets(report, checked, settings, None, payloads, stop, progress, timings)
    del checked  # the sheets' values are settled into the report: the writer has the memory
    _write(path, output, report, book, timings, progress=progress)
    return report


OFFLINE_NOTE = (
    "--offline: pbload checked the rows without looking them up at PB, so SKUs PB does not have, UPDATE or "
    "CANCEL of items it does not have and CREATE of items it has are not found until the load."
)
LOOKUPS_SKIPPED = (
    "SKUs PB does not have, UPDATE or CANCEL of items it does not have and CREATE of items it has are "
    "not found until the load."
)
VALID = Outcome(Status.VALID)


def _validate_sheets(
    report: RunReport,
    checked: list[CheckedSheet],
    settings: Settings,
    client: FulfillmentClient | None,
    payloads: Path | None,
    stop: threading.Event,
    progress: Progress,
    timings: Timings,
) -> None:
    """Each sheet's rows VALID or not; with a client, what PB's look-ups say of them too."""
    shown = progress if client is not None else _no_progress  # offline, nothing is looked up
    deps = _dependencies(client, settings, stop)
    with _payload_log(payloads) as log:
        # the bodies are built only to be written out: validate's look-ups decide by keys and values
        for step in plan_workbook(report, checked, settings, deps, shown, timings, bodies=log is not None):
            # what the look-ups refuse, by key; every other item is VALID
            found = _looked_up(client, settings, step, stop) if client is not None else {}
            settle(step.sheet, _by_row(step.items, found, VALID))
            if log is not None:
                for item in step.items:
                    if item.key not in found:
                        log.record(item, {"clientId": settings.client_id, **item.payload})
            failed = sum(len(i.rows) for i in step.items if i.key in found)
            shown(_looking_up(step.sheet), step.total, step.total, failed)


def _looked_up(
    client: FulfillmentClient, settings: Settings, step: SheetStep, stop: threading.Event
) -> dict[str, Outcome]:
    """What a load's look-ups would refuse: the preview's FAILED and BLOCKED outcomes, by item key."""
    if not step.items or stop.is_set():
        return {}
    preview = sender_for(
        step.resource, client, settings.chunk_size, settings.concurrency, Recorder(stop=stop)
    ).preview(step.items)
    return {
        key: _as_invalid(outcome)
        for key, outcome in preview.items()
        if outcome.status in (Status.FAILED, Status.BLOCKED)
    }


def _as_invalid(outcome: Outcome) -> Outcome:
    """A row a load would see refused is INVALID in `validate`, with the load's code and message."""
    if outcome.status is not Status.FAILED:
        return outcome
    return Outcome(Status.INVALID, error_code=outcome.error_code, message=outcome.message)


def _check_payloads_path(payloads: Path | None, path: Path, output: Path | None) -> None:
    if payloads is not None and payloads.resolve() in (
        path.resolve(),
        _result_target(path, output).resolve(),
    ):
        raise WorkbookError(f"--payloads {payloads} would overwrite a workbook. Give it a .jsonl file name.")


@contextmanager
def _payload_log(payloads: Path | None) -> Iterator[PayloadLog | None]:
    if payloads is None:
        yield None
        return
    with PayloadLog(payloads) as log:
        yield log


def load(
    path: Path,
    settings: Settings,
    output: Path | None = None,
    progress: Progress = _no_progress,
    timings: Timings | None = None,
    transport: Transport | None = None,
    stop: threading.Event | None = None,
    payloads: Path | None = None,
) -> RunReport:
    """Check the workbook, send its valid items sheet by sheet, and write the result workbook.

    Each item is journalled (DESIGN §4): a run cut short — by `stop`, by the API going away, or by
    a crash — is finished by loading the same workbook again, which sends nothing twice. With
    `payloads`, every body sent is written there with its sheet, rows and operation. One run at a
    time loads a workbook into a target: a second one raises BusyError naming the first.
    """
    _require_transport(settings, transport)
    run_id = _new_run_id()
    with RunLock(settings.state_dir, path, settings.target) as lock:
        lock.acquire(run_id, _now().isoformat())
        return _load_locked(path, settings, output, progress, timings, transport, stop, payloads, run_id)


def _load_locked(
    path: Path,
    settings: Settings,
    output: Path | None,
    progress: Progress,
    timings: Timings | None,
    transport: Transport | None,
    stop: threading.Event | None,
    payloads: Path | None,
    run_id: str,
) -> RunReport:
    timings = timings or Timings()
    stop = stop or threading.Event()
    report, book, checked = _read_and_check(path, settings, "load", output, timings, run_id, progress)
    _check_payloads_path(payloads, path, output)
    journal = Journal(settings.state_dir)
    earlier_runs = journal.unfinished_runs(path, settings.target)
    journal.start_run(
        report.run_id,
        "load",
        path,
        report.input_sha256,
        output,
        settings.env,
        settings.target,
        settings.base_url,
        {name: getattr(settings, name) for name in RESUMED_SETTINGS},
    )
    try:
        with _timed(timings, "send"), _client(settings, transport) as client, _payload_log(payloads) as log:
            deps = _dependencies(client, settings, stop)
            try:
                for step in plan_workbook(report, checked, settings, deps, progress, timings):
                    ready = sum(len(i.rows) for i in step.items)
                    progress(_looking_up(step.sheet), step.total, step.total, step.total - ready)
                    in_doubt = _in_doubt(journal, settings, step)
                    outcomes, failure = _send_sheet(
                        client, settings, journal, report.run_id, step, in_doubt, progress, stop, log
                    )
                    settle(step.sheet, outcomes)
                    if failure is not None:
                        raise failure
            finally:
                report.retries = client.stats.total_retries
                report.interrupted = stop.is_set()
    except ApiError as exc:
        report.interrupted = True
        _settle_unanswered(journal, report, checked)
        keep = _sent_nothing(report) and _result_target(path, output).exists()
        try:
            _finish_run(
                journal, report, earlier_runs, path, output, book, timings, progress, keep_previous=keep
            )
        except PbloadError as failed:  # the result or the journal failed too: say both
            raise type(failed)(f"{exc} {failed}") from failed
        if keep:
            raise type(exc)(
                f"{exc} Nothing was sent, so the result workbook {_result_target(path, output)} of an "
                "earlier run is left as it was."
            ) from exc
        raise type(exc)(f"{exc} What happened to each row so far is in {report.result_path}.") from exc
    except JournalError:
        report.interrupted = True  # the journal cannot follow the run: stop, but give the user their rows
        _finish_run(journal, report, earlier_runs, path, output, book, timings, progress)
        raise
    _finish_run(journal, report, earlier_runs, path, output, book, timings, progress)
    return report


def _sent_nothing(report: RunReport) -> bool:
    """No row got an answer from PB: nothing was loaded, nothing failed at PB (look-ups may have been made)."""
    answered = LOADED_STATUSES | {Status.FAILED}
    return not any(status in answered for sheet in report.sheets for status in sheet.counts())


def _finish_run(
    journal: Journal,
    report: RunReport,
    earlier_runs: list[str],
    path: Path,
    output: Path | None,
    book: WorkbookData,
    timings: Timings,
    progress: Progress = _no_progress,
    keep_previous: bool = False,
) -> None:
    """Write the result workbook, then mark the run ended: a run is finished only once its result is there.

    The report is kept in the journal first, so a result that cannot be written (disk full, folder
    gone, file locked) is written later by `pbload resume RUN_ID`, which sends nothing. With
    `keep_previous` (a run cut short that sent nothing) an earlier run's result stays as it is and
    none is written; `pbload resume RUN_ID -o PATH` can still write this run's.
    """
    for sheet in report.sheets:  # every row ends with exactly one status
        settle(sheet, {row: NOT_SENT for row in sheet.rows if row not in sheet.outcomes})
    state = "interrupted" if report.interrupted else "finished"
    report.ended = _now()
    try:
        journal.keep_result(report, state, _result_target(path, output), _positions(book), earlier_runs)
    except JournalError as exc:
        _write_without_journal(exc, path, output, report, book, timings)
    if keep_previous:
        journal.close()
        return
    _write(
        path,
        output,
        report,
        book,
        timings,
        again=f"Every row's outcome is kept in pbload's journal: once that "
        f"is fixed, run `pbload resume {report.run_id}` to write the result workbook (nothing is sent again; "
        "add -o PATH to write it elsewhere).",
        progress=progress,
    )
    try:
        journal.end_run(report.run_id, state, report.counts())
        if not report.interrupted:
            journal.supersede(earlier_runs, report.run_id)
        journal.close()
    except JournalError as exc:
        raise JournalError(
            f"{exc} The result workbook, with every row's status, is at {report.result_path}."
        ) from exc


def _write_without_journal(
    failure: JournalError,
    path: Path,
    output: Path | None,
    report: RunReport,
    book: WorkbookData,
    timings: Timings,
) -> None:
    """The journal cannot keep the run's report: write the result all the same, then raise the journal's error."""
    _write(
        path,
        output,
        report,
        book,
        timings,
        again=f"Nor can the journal keep the rows' outcomes: {failure} "
        "Loading the same workbook again once that is fixed looks up what PB already has and sends nothing twice.",
    )
    raise JournalError(
        f"{failure} The result workbook, with every row's status, is at {report.result_path}."
    ) from failure


def _settle_unanswered(journal: Journal, report: RunReport, checked: list[CheckedSheet]) -> None:
    """Rows whose request left but got no answer: neither loaded nor safe to call not sent."""
    waiting = journal.in_flight(report.run_id)
    for sheet, rows in zip(report.sheets, checked, strict=True):
        resource = rows.data.resource
        keys = rows.values[resource.key]
        unanswered = {
            int(row): NO_ANSWER
            for row, key in zip(keys.index, keys.array, strict=True)
            if int(row) not in sheet.outcomes and (resource.name, str(key)) in waiting
        }
        settle(sheet, unanswered)


def plan(
    path: Path,
    settings: Settings,
    output: Path | None = None,
    timings: Timings | None = None,
    transport: Transport | None = None,
    stop: threading.Event | None = None,
    progress: Progress = _no_progress,
) -> RunReport:
    """What `load` would do with every row, from the look-ups of a load and nothing else; write the result.

    Each sheet is planned and looked up as `load` does it, and its senders only preview
    (`Sender.preview`): rows say WOULD CREATE, WOULD UPDATE (with its changes), UNCHANGED or WOULD
    CANCEL. Nothing is written to PB, and nothing to the journal: a plan is not a run to finish.
    """
    _require_transport(settings, transport)
    timings = timings or Timings()
    stop = stop or threading.Event()
    report, book, checked = _read_and_check(path, settings, "plan", output, timings, progress=progress)
    with _timed(timings, "send"), _client(settings, transport) as client:
        deps = _dependencies(client, settings, stop)
        try:
            for step in plan_workbook(report, checked, settings, deps, progress, timings):
                outcomes: dict[str, Outcome] = {}
                if step.items and not stop.is_set():
                    sender = sender_for(
                        step.resource, client, settings.chunk_size, settings.concurrency, Recorder(stop=stop)
                    )
                    outcomes = sender.preview(step.items)
                settle(step.sheet, _by_row(step.items, outcomes))
                progress(_looking_up(step.sheet), step.total, step.total, 0)
        finally:
            report.retries = client.stats.total_retries
            report.interrupted = stop.is_set()
    del checked
    for sheet in report.sheets:
        settle(sheet, {row: NOT_SENT for row in sheet.rows if row not in sheet.outcomes})
    _write(path, output, report, book, timings, progress=progress)
    return report


@dataclass(frozen=True)
class SheetStep:
    """One sheet, planned, with what its dependencies decided settled: the items left to look up or send."""

    sheet: SheetReport
    rows: CheckedSheet
    items: list[Item]
    total: int  # rows planned into items, before the dependencies settled some of them

    @property
    def resource(self) -> Resource:
        return self.rows.data.resource


def plan_workbook(
    report: RunReport,
    checked: list[CheckedSheet],
    settings: Settings,
    deps: Dependencies,
    progress: Progress,
    timings: Timings,
    bodies: bool = True,
) -> Iterator[SheetStep]:
    """The planning path of `validate`, `plan` and `load`: each sheet in the catalogue's order, its rows
    planned into items and the rows that must not be sent settled (invalid, blocked by a failed
    dependency, naming a SKU nobody has).

    What the caller settled for a sheet is recorded (`deps.record`) before the next one is planned, so
    a product that failed blocks the orders after it. A sheet whose SKU look-ups Ctrl-C stopped is not
    given (its valid rows stay NOT SENT). Without `bodies`, items have no API bodies (`validate`
    decides by keys and values).
    """
    for sheet, rows in zip(report.sheets, checked, strict=True):
        resource = rows.data.resource
        with _timed(timings, "plan"), _gc_paused():
            planned = plan_sheet(rows, rows.invalid_rows(settings.strict), bodies)
        settle(sheet, planned.settled)
        total = sum(len(i.rows) for i in planned.items)
        progress(_looking_up(sheet), 0, total, 0)
        try:
            items, settled, issues = deps.resolve(resource, planned.items)
        except Stopped:
            deps.record(resource, rows, sheet.outcomes)
            continue
        settle(sheet, settled)
        report.issues.extend(issues)
        yield SheetStep(sheet, rows, items, total)
        deps.record(resource, rows, sheet.outcomes)


def settle(sheet: SheetReport, outcomes: Mapping[int, Outcome] | Iterable[tuple[int, Outcome]]) -> None:
    """Give rows of a sheet their outcome: the one place a run's stages write on the report's rows."""
    sheet.outcomes.update(outcomes)


def _by_row(
    items: list[Item], outcomes: Mapping[str, Outcome], default: Outcome | None = None
) -> Iterator[tuple[int, Outcome]]:
    """Each item's outcome, by key (else `default`), for each of its rows; items with neither are left out.
    Made as they are settled: a million rows' outcomes are never held a second time."""
    for item in items:
        outcome = outcomes.get(item.key, default)
        if outcome is not None:
            for row in item.rows:
                yield row, outcome


def _dependencies(
    client: FulfillmentClient | None, settings: Settings, stop: threading.Event
) -> Dependencies:
    """What the run's sheets depend on; SKUs the workbook does not have are asked of PB through `client`
    (with none, they are not asked: an offline validate)."""
    if client is None:
        return Dependencies(lookup_products=None)
    return Dependencies(lambda skus: known_keys(client, PRODUCTS, skus, settings.concurrency, stop))


def _looking_up(sheet: SheetReport) -> str:
    return f"Looking up {sheet.sheet}"


def export(
    what: str, settings: Settings, output: Path, transport: Transport | None = None
) -> tuple[Path, int]:
    """Export PB's `what` into a workbook at `output`."""
    _require_transport(settings, transport)
    with _client(settings, transport) as client:
        return export_records(client, what, output)


def _result_target(path: Path, output: Path | None) -> Path:
    target = output or result_path_for(path)
    if target.resolve() == path.resolve():
        raise WorkbookError(
            f"The result would overwrite the input {path.name}, which pbload never changes. "
            "Give -o another file name."
        )
    return target


def _new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def _read_and_check(
    path: Path,
    settings: Settings,
    command: str,
    output: Path | None,
    timings: Timings,
    run_id: str | None = None,
    progress: Progress = _no_progress,
) -> tuple[RunReport, WorkbookData, list[CheckedSheet]]:
    # before any work: the input must stay as it is, and the result must have somewhere to go
    check_writable(_result_target(path, output))
    report = RunReport(
        run_id=run_id or _new_run_id(),
        command=command,
        input_path=str(path),
        input_sha256=_sha256(path),
        environment=settings.env,
        started=_now(),
    )
    with _gc_paused():
        with _timed(timings, "read"):
            progress(f"Reading {path.name}", 0, 0, 0)
            book = read_workbook(path)
            count = sum(len(s.frame) for s in book.sheets)
            progress(f"Reading {path.name}", count, count, 0)
        with _timed(timings, "check"):
            checked = []
            for sheet in book.sheets:
                progress(f"Checking {sheet.sheet}", 0, len(sheet.frame), 0)
                checked.append(check_sheet(sheet))
                bad = len(checked[-1].invalid_rows(settings.strict))
                progress(f"Checking {sheet.sheet}", len(sheet.frame), len(sheet.frame), bad)
    report.template = _template_label(book.template)
    report.issues.extend(book.issues)
    for sheet_rows in checked:
        report.sheets.append(SheetReport(sheet_rows.data.sheet, list(sheet_rows.data.frame.index)))
        report.issues.extend(sheet_rows.issues)
    return report, book, checked


def _in_doubt(journal: Journal, settings: Settings, step: SheetStep) -> frozenset[str]:
    """The reconciling step: items an earlier run sent without hearing back. The sender looks each one up
    at PB before it is sent again, and a duplicate create of it is taken as that earlier run's."""
    earlier = journal.earlier(settings.target, step.resource.name, [i.key for i in step.items])
    return frozenset(key for key, entry in earlier.items() if entry.state == IN_FLIGHT)


def _send_sheet(
    client: FulfillmentClient,
    settings: Settings,
    journal: Journal,
    run_id: str,
    step: SheetStep,
    in_doubt: frozenset[str],
    progress: Progress,
    stop: threading.Event,
    payloads: PayloadLog | None = None,
) -> tuple[Iterator[tuple[int, Outcome]], ApiError | JournalError | None]:
    """Send one sheet's items: the outcome of each row that got one, and what stopped the sheet, if anything.

    The outcomes are taken from the recorder, which keeps them as they arrive, so the API going away
    (the breaker) or the journal failing loses none; rows whose request left without an answer are
    `no-answer`, the rest of the unsent ones get no outcome here.
    """
    resource, items = step.resource, step.items
    phase, total = f"Sending {step.sheet.sheet}", sum(len(i.rows) for i in items)
    done = failed = 0

    def tick(rows: int, failures: int) -> None:
        nonlocal done, failed
        done += rows
        failed += failures
        progress(phase, done, total, failed)

    recorder = Recorder(journal, run_id, settings.target, resource.name, tick, stop, in_doubt, payloads)
    progress(phase, 0, total, 0)
    failure = None
    try:
        if items and not stop.is_set():
            sender_for(resource, client, settings.chunk_size, settings.concurrency, recorder).send(items)
    except (ApiError, JournalError) as exc:
        failure = exc
    outcomes = recorder.outcomes
    if len(outcomes) < len(items):  # sent without an answer: `no-answer`
        waiting = journal.in_flight(run_id)
        unanswered = [i.key for i in items if i.key not in outcomes and (resource.name, i.key) in waiting]
        outcomes = {**outcomes, **dict.fromkeys(unanswered, NO_ANSWER)}
    return _by_row(items, outcomes), failure


# A row whose request left but got no answer: neither loaded nor safe to call not sent.
NO_ANSWER = Outcome(
    Status.FAILED,
    error_code=Code.NO_ANSWER,
    message="Sent, but no answer came back. Load the same workbook again: pbload checks what PB has "
    "and finishes it without sending anything twice.",
)
NOT_SENT = Outcome(Status.NOT_SENT)


def _write(
    path: Path,
    output: Path | None,
    report: RunReport,
    book: WorkbookData,
    timings: Timings,
    again: str = "Fix that, or choose another place with -o.",
    progress: Progress = _no_progress,
) -> None:
    """Write the result workbook; a disk or file failure is a ResultError that ends with `again`."""
    report.ended = report.ended or _now()
    target = _result_target(path, output)
    rows = sum(len(s.rows) for s in report.sheets)
    with _timed(timings, "write"), _gc_paused():
        progress(f"Writing {target.name}", 0, rows, 0)
        report.result_path = str(_write_result(path, target, report, _positions(book), again))
        progress(f"Writing {target.name}", rows, rows, 0)


def _write_result(
    path: Path, target: Path, report: RunReport, positions: dict[str, dict[str, int]], again: str
) -> Path:
    try:
        return write_result(path, target, report, positions).path
    except OSError as exc:
        raise ResultError(
            f"Cannot write the result workbook {target}: {write_problem(exc, target)}. {again}"
        ) from exc


def _positions(book: WorkbookData) -> dict[str, dict[str, int]]:
    """Each sheet's columns: header -> 0-based column, for pointing at cells with problems."""
    return {s.sheet: {s.resource.by_name[n].header: c for n, c in s.columns.items()} for s in book.sheets}


def write_kept_result(run_id: str, settings: Settings, output: Path | None = None) -> RunReport:
    """Write the result workbook of a run whose result could not be written, from the journal; send nothing.

    Holds the run's lock as a load would, and refuses if the input workbook changed since the run.
    """
    journal = Journal(settings.state_dir)
    try:
        record = journal.run(run_id)
        if record is None or record.state != UNWRITTEN:
            raise WorkbookError(
                f"Run {run_id} has no result waiting to be written; `pbload runs` lists the runs."
            )
        path = Path(record.input_path)
        with RunLock(settings.state_dir, path, record.target) as lock:
            lock.acquire(run_id, _now().isoformat())
            return _write_kept(journal, record, path, output)
    finally:
        journal.close()


def _write_kept(journal: Journal, record: RunRecord, path: Path, output: Path | None) -> RunReport:
    kept = journal.kept_result(record.run_id)
    if kept is None:
        raise JournalError(
            f"Run {record.run_id}'s outcomes are missing from the journal. Load {path.name} "
            "again: pbload looks up what PB already has and sends nothing twice."
        )
    if _sha256(path) != record.input_sha256:
        raise WorkbookError(
            f"{path} has changed since run {record.run_id} loaded it, so its result cannot be "
            "written row by row. Put the workbook back as it was, or load the changed one (pbload "
            "sends nothing twice)."
        )
    report = kept.report
    target = _result_target(path, output or kept.output_path)
    again = f"Fix that and run `pbload resume {record.run_id}` again, or add -o PATH to write it elsewhere."
    report.result_path = str(_write_result(path, target, report, kept.positions, again))
    journal.end_run(record.run_id, kept.final_state, report.counts())
    if kept.final_state == "finished":
        journal.supersede(kept.supersedes, record.run_id)
    return report


def _require_transport(settings: Settings, transport: Transport | None) -> None:
    """The `local` environment is reached through the transport its caller gives (checked before any work)."""
    if settings.uses_builtin_emulator and transport is None:
        raise SettingsError(
            "The local environment's API is pbload's built-in emulator, which runs in the caller's process: "
            "give its transport, httpx.WSGITransport(app=loader.emulator.create_app(settings.emulator_db))."
        )


@contextmanager
def _client(settings: Settings, transport: Transport | None) -> Iterator[FulfillmentClient]:
    base_url = settings.base_url or LOCAL_BASE_URL
    if callable(transport) and not isinstance(transport, httpx.BaseTransport):
        transport = transport()
    policy = RetryPolicy(max_attempts=settings.max_attempts, deadline_s=settings.retry_deadline)
    client = FulfillmentClient(
        base_url,
        settings.client_id,
        settings.api_key,
        settings.api_secret,
        transport=transport,
        policy=policy,
        max_rps=settings.max_rps,
        timeouts=timeout(settings.connect_timeout, settings.read_timeout),
    )
    try:
        yield client
    finally:
        client.close()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Reading, checking, planning and writing make millions of small objects and no cycles: the cycle
    collector, walking the whole heap again and again as they pile up, only slows them down."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _timed(timings: Timings, stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        setattr(timings, stage, getattr(timings, stage) + time.perf_counter() - start)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""  # the reader reports the unreadable file with a proper message
    return digest.hexdigest()


def _template_label(template: dict[str, str]) -> str | None:
    if not template:
        return None
    name = template.get("template", "?")
    versions = ", ".join(f"{k} v{v}" for k, v in template.items() if k != "template")
    return f"{name} ({versions})" if versions else name


def _now() -> datetime:
    return datetime.now(UTC).astimezone()
