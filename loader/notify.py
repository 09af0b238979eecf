"""E-mail the result workbook (DESIGN §6): render (pure), build the message, send (I/O).

    summary_from_report(report) / summary_from_result(path)   the counts and run record to tell
    render(summary)                                            -> (subject, text, html)
    build_message(summary, result_path, sender, to, ...)       -> EmailMessage, workbook attached
    send(message, smtp)                                        hand it to the SMTP server
    email_result(summary, result_path, to, smtp)               the three above in one call

The bodies come from the jinja2 templates `result.txt.j2` and `result.html.j2` in the repository's
`templates/email/` (see `template_dir` for where an installed pbload finds them). A failed send is a
`MailError` whose message says why and what to do; no password ever appears in one (`loader.redact`,
should a server echo it), though the exception it is raised from may hold one: print that only through
`redact` too.
"""

from __future__ import annotations

import functools
import importlib.metadata
import io
import re
import smtplib
import socket
import ssl
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import jinja2

from loader.errors import MailError, PbloadError, SettingsError, WorkbookError
from loader.models import RunReport, Status
from loader.redact import redact
from loader.settings import SmtpSettings
from loader.workbook import ERRORS_SHEET, SUMMARY_SHEET

TEXT_TEMPLATE = "result.txt.j2"
HTML_TEMPLATE = "result.html.j2"
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
ZIP_TYPE = ("application", "zip")
MEGABYTE = 1024 * 1024
SMTP_TIMEOUT_S = 30.0
# The order counts are told in: what went in (or is valid) first, then what needs the reader.
STATUS_ORDER = (
    Status.CREATED,
    Status.UPDATED,
    Status.UNCHANGED,
    Status.CANCELED,
    Status.VALID,
    Status.FAILED,
    Status.INVALID,
    Status.BLOCKED,
    Status.NOT_SENT,
)
PROBLEM_STATUSES = frozenset({Status.FAILED, Status.INVALID, Status.BLOCKED, Status.NOT_SENT})
# The rows an e-mail names one by one (sheet, row, code, message), at most MAX_LISTED_ROWS of them.
FAILED_STATUSES = (Status.FAILED, Status.INVALID, Status.BLOCKED)
MAX_LISTED_ROWS = 20
FAILED_COLUMNS = ("Sheet", "Row", "Code", "Message")
_NO_HOST = (
    "E-mail needs a mail server, but PBLOAD_SMTP_HOST is not set. Set it (with PBLOAD_SMTP_PORT, "
    "PBLOAD_SMTP_TLS, PBLOAD_SMTP_USER and PBLOAD_SMTP_PASSWORD as your server needs), or put host "
    "under [smtp] in pbload.toml."
)
_SERVER_SETTINGS = (
    "Check PBLOAD_SMTP_HOST and PBLOAD_SMTP_PORT (or host and port under [smtp] in pbload.toml)."
)
_TLS_SETTINGS = (
    "Check PBLOAD_SMTP_TLS: ssl for port 465, starttls for 587, none only for a relay on a trusted network."
)


@dataclass(frozen=True)
class SheetCounts:
    """The rows of one sheet and how many ended in each status."""

    sheet: str
    rows: int
    counts: Mapping[Status, int]


@dataclass(frozen=True)
class FailedRow:
    """A row that failed, was invalid or was blocked, as the e-mail lists it."""

    sheet: str
    row: int
    code: str
    message: str


@dataclass(frozen=True)
class Summary:
    """What an e-mail about a run tells: the files, the run record, the counts per sheet."""

    input_name: str
    result_name: str
    command: str
    run_id: str
    environment: str
    started: str
    ended: str
    sheets: tuple[SheetCounts, ...]
    failed_rows: tuple[FailedRow, ...] = ()  # the first MAX_LISTED_ROWS, sheet by sheet and row by row

    @property
    def failed(self) -> int:
        """Rows that failed, were invalid or were blocked (the e-mail lists the first of them)."""
        totals = self.totals()
        return sum(totals.get(s, 0) for s in FAILED_STATUSES)

    def totals(self) -> dict[Status, int]:
        """Rows per status over every sheet, in STATUS_ORDER, zero counts left out."""
        totals = {s: sum(sheet.counts.get(s, 0) for sheet in self.sheets) for s in STATUS_ORDER}
        return {s: n for s, n in totals.items() if n}

    @property
    def problems(self) -> int:
        """Rows that were not loaded (or are not valid) and need the reader's attention."""
        return sum(n for s, n in self.totals().items() if s in PROBLEM_STATUSES)


def summary_from_report(report: RunReport) -> Summary:
    """The summary of a run that just finished (a row with no outcome counts as NOT SENT, as in its sheet)."""
    ended = report.ended or report.started
    sheets = []
    for sheet in report.sheets:
        counts = sheet.counts()
        unsettled = sum(1 for row in sheet.rows if row not in sheet.outcomes)
        if unsettled:
            counts[Status.NOT_SENT] = counts.get(Status.NOT_SENT, 0) + unsettled
        sheets.append(SheetCounts(sheet.sheet, len(sheet.rows), counts))
    return Summary(
        input_name=Path(report.input_path).name,
        result_name=Path(report.result_path or "").name,
        command=report.command,
        run_id=report.run_id,
        environment=report.environment,
        started=_iso(report.started),
        ended=_iso(ended),
        sheets=tuple(sheets),
        failed_rows=tuple(_failed_rows(report)),
    )


def _failed_rows(report: RunReport) -> Iterator[FailedRow]:
    listed = 0
    for sheet in report.sheets:
        for row, outcome in sheet.outcomes.by_row(FAILED_STATUSES):
            if listed == MAX_LISTED_ROWS:
                return
            listed += 1
            yield FailedRow(sheet.sheet, row, redact(outcome.error_code or ""), redact(outcome.message or ""))


def summary_from_result(path: Path) -> Summary:
    """The summary read back from the `Summary` sheet of a result workbook pbload wrote."""
    rows, problems = _result_rows(path)
    header = next((i for i, r in enumerate(rows) if _cell(r, 0) == "Sheet" and _cell(r, 1) == "Rows"), None)
    if header is None:
        raise WorkbookError(
            f"The Summary sheet of {path.name} has no table of counts. "
            "Give the result workbook as pbload wrote it."
        )
    known = {s.value: s for s in Status}
    statuses = {j: known[v] for j, v in enumerate(rows[header]) if v in known}
    sheets = []
    for row in rows[header + 1 :]:
        name = _cell(row, 0)
        if name in (None, ""):
            break
        if str(name).strip().lower() != "total":
            counts = {s: int(_cell(row, j) or 0) for j, s in statuses.items() if _cell(row, j)}
            sheets.append(SheetCounts(str(name), int(_cell(row, 1) or 0), counts))
    record = {str(r[0]): _cell(r, 1) for r in rows[header + 1 :] if _cell(r, 0) not in (None, "")}
    return Summary(
        input_name=_text(record.get("Input file")),
        result_name=path.name,
        command=_text(record.get("Command")),
        run_id=_text(record.get("Run ID")),
        environment=_text(record.get("Environment")),
        started=_text(record.get("Started")),
        ended=_text(record.get("Ended")),
        sheets=tuple(sheets),
        failed_rows=tuple(problems),
    )


def _result_rows(path: Path) -> tuple[list[tuple[Any, ...]], list[FailedRow]]:
    """The Summary's rows, and the first rows with an error on the Errors sheet (sheet, row, code, message)."""
    import openpyxl  # only `pbload email` reads a result back

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise WorkbookError(
            f"{path} cannot be read as a workbook ({exc}). "
            "Give the .result.xlsx file that pbload load or validate wrote."
        ) from exc
    try:
        if SUMMARY_SHEET not in book.sheetnames:
            raise WorkbookError(
                f"{path.name} has no Summary sheet, so it is not a pbload result workbook. "
                "Give the .result.xlsx file that pbload load or validate wrote."
            )
        summary = [tuple(r) for r in book[SUMMARY_SHEET].iter_rows(values_only=True)]
        return summary, _errors_of(book[ERRORS_SHEET]) if ERRORS_SHEET in book.sheetnames else []
    finally:
        book.close()


def _errors_of(ws: Any) -> list[FailedRow]:
    """The first MAX_LISTED_ROWS rows the Errors sheet names with an error, each once."""
    found: dict[tuple[str, int], FailedRow] = {}
    for values in ws.iter_rows(min_row=2, max_col=5, values_only=True):
        sheet, cell, severity, code, message = (*values, None, None, None, None, None)[:5]
        number = re.search(r"\d+$", str(cell or ""))
        if severity != "error" or not sheet or not number:
            continue
        key = (str(sheet), int(number.group()))
        found.setdefault(key, FailedRow(key[0], key[1], _text(code), _text(message)))
        if len(found) == MAX_LISTED_ROWS:
            break
    return list(found.values())


def _cell(row: tuple[Any, ...], index: int) -> Any:
    return row[index] if index < len(row) else None


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return _iso(value)
    return "" if value is None else str(value)


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def render(summary: Summary, attachment: str | None = None) -> tuple[str, str, str]:
    """Subject, plain-text body and HTML body of the e-mail about `summary`.

    `attachment` is the attached file's name when it is not the result workbook itself (a zip).
    """
    context = _context(summary, attachment or summary.result_name)
    env = _environment()
    text = env.get_template(TEXT_TEMPLATE).render(context)
    html = env.get_template(HTML_TEMPLATE).render(context)
    return subject_for(summary), text, html


def subject_for(summary: Summary) -> str:
    """`pbload: orders.xlsx — 497 created, 3 failed`."""
    name = " ".join(summary.input_name.split())  # a header holds no line breaks
    return f"pbload: {name} — {counts_text(summary.totals())}"


def counts_text(counts: Mapping[Status, int]) -> str:
    """`497 created, 3 failed`: in STATUS_ORDER, zero counts left out."""
    parts = [f"{counts[s]} {s.value.lower()}" for s in STATUS_ORDER if counts.get(s)]
    return ", ".join(parts) or "no data rows"


def _context(summary: Summary, attachment: str) -> dict[str, Any]:
    totals = summary.totals()
    statuses = list(totals)
    columns = ["Sheet", "Rows", *[s.value.capitalize() for s in statuses]]
    rows = [
        [s.sheet, str(s.rows), *[str(s.counts.get(status, 0)) for status in statuses]] for s in summary.sheets
    ]
    if len(summary.sheets) > 1:
        rows.append(["Total", str(sum(s.rows for s in summary.sheets)), *[str(totals[s]) for s in statuses]])
    widths = [max(len(r[i]) for r in [columns, *rows]) for i in range(len(columns))]
    failed = [[r.sheet, str(r.row), r.code, " ".join(r.message.split())] for r in summary.failed_rows]
    failed_widths = [max([len(h), *(len(r[i]) for r in failed)]) for i, h in enumerate(FAILED_COLUMNS[:3])]
    return {
        "failed_columns": FAILED_COLUMNS,
        "failed": failed,
        "failed_widths": failed_widths,
        "more_failed": max(0, summary.failed - len(failed)),
        "summary": summary,
        "counts": counts_text(totals),
        "columns": columns,
        "rows": rows,
        "widths": widths,
        "problems": summary.problems,
        "attachment": attachment,
        "zipped": attachment != summary.result_name,
        "started": summary.started.replace("T", " "),
        "ended": summary.ended.replace("T", " "),
    }


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir()),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def template_dir() -> Path:
    """Where the e-mail templates are.

    In a checkout and with `pip install -e .` they are read from the repository's `templates/email/`,
    so an edit shows at once. A regular install has no repository: pyproject.toml ships the same
    files as data files to `<prefix>/share/pbload/email/`, found through the installed file list.
    """
    source = Path(__file__).resolve().parents[1] / "templates" / "email"
    if (source / TEXT_TEMPLATE).is_file():
        return source
    try:
        files = importlib.metadata.files("pbload") or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name == TEXT_TEMPLATE and file.parent.name == "email":
            return Path(str(file.locate())).resolve().parent
    raise PbloadError("pbload's e-mail templates are missing from this installation. Reinstall pbload.")


def check_addresses(addresses: Sequence[str]) -> list[str]:
    """The addresses, each checked to be a plain `name@domain` (a MailError names the first that is not)."""
    for address in addresses:
        try:
            parsed: Address | None = Address(addr_spec=address.strip())
        except (ValueError, IndexError):
            parsed = None
        if parsed is None or not parsed.domain:
            raise MailError(
                f"'{address}' is not an e-mail address. Give one address like name@example.com each time."
            )
    return [a.strip() for a in addresses]


def check_ready(smtp: SmtpSettings) -> None:
    """Fail early, before a run, when the settings cannot send any e-mail."""
    if not smtp.host:
        raise SettingsError(_NO_HOST)
    if smtp.user and not smtp.password:
        raise SettingsError(
            f"PBLOAD_SMTP_USER is {smtp.user}, but PBLOAD_SMTP_PASSWORD is not set. Set the "
            "password in the environment (never in pbload.toml), or unset the user."
        )


def build_message(
    summary: Summary, result_path: Path, sender: str, to: Sequence[str], zip_above_mb: float = 10.0
) -> EmailMessage:
    """The e-mail: subject, text and HTML bodies, the result workbook attached (zipped above `zip_above_mb`)."""
    try:
        data = result_path.read_bytes()
        mtime = result_path.stat().st_mtime
    except OSError as exc:
        raise MailError(f"{result_path} cannot be read ({exc.strerror or exc}). Check the path.") from exc
    name, content_type = result_path.name, XLSX_TYPE
    if len(data) > zip_above_mb * MEGABYTE:
        data, name, content_type = _zipped(data, name, mtime), f"{result_path.stem}.zip", ZIP_TYPE
    subject, text, html = render(summary, attachment=name)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "pbload.invalid")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message.add_attachment(data, maintype=content_type[0], subtype=content_type[1], filename=name)
    return message


def _zipped(data: bytes, name: str, mtime: float) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo(name, date_time=time.localtime(mtime)[:6]),
            data,
            compress_type=zipfile.ZIP_DEFLATED,
        )
    return buffer.getvalue()


def send(
    message: EmailMessage,
    smtp: SmtpSettings,
    *,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = SMTP_TIMEOUT_S,
) -> None:
    """Hand `message` to the SMTP server; a MailError says why it could not be sent."""
    check_ready(smtp)
    context = ssl_context or ssl.create_default_context()
    try:
        with _connect(smtp, context, timeout) as server:
            if smtp.user:
                server.login(smtp.user, smtp.password)
            refused = server.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(_scrub(f"The e-mail was not sent: {_reason(exc, smtp, timeout)}", smtp)) from exc
    if refused:
        raise MailError(
            _scrub(
                f"The e-mail went out, but the mail server refused {_refusals(refused)}. "
                "Check those addresses and send it to them again.",
                smtp,
            )
        )


def _connect(smtp: SmtpSettings, context: ssl.SSLContext, timeout: float) -> smtplib.SMTP:
    assert smtp.host  # check_ready made sure
    if smtp.tls == "ssl":
        return smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=context)
    server = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    if smtp.tls == "starttls":
        try:
            server.starttls(context=context)
        except BaseException:
            server.close()
            raise
    return server


def _reason(exc: BaseException, smtp: SmtpSettings, timeout: float) -> str:
    """One or two sentences: what went wrong, then what to do."""
    where = f"{smtp.host}:{smtp.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (
            f"the mail server {where} refused the user name or password of {smtp.user} ({_reply(exc)}). "
            "Check PBLOAD_SMTP_USER and PBLOAD_SMTP_PASSWORD."
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"the mail server refused {_refusals(exc.recipients)}. Check the addresses."
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return (
            f"the mail server refused the sender {exc.sender} ({_reply(exc)}). Set PBLOAD_MAIL_FROM "
            "(or from under [smtp] in pbload.toml) to an address the server accepts."
        )
    if isinstance(exc, smtplib.SMTPDataError):
        return (
            f"the mail server refused the message ({_reply(exc)}). If it is too large, set "
            "PBLOAD_MAIL_ZIP_ABOVE_MB lower, or send the result workbook another way."
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return _not_supported(str(exc), where)
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPResponseException):
        return f"the mail server {where} broke off the conversation ({_reply(exc)}). {_TLS_SETTINGS}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"the certificate of {where} could not be trusted ({exc.verify_message}). Check that "
            "PBLOAD_SMTP_HOST is the name on the server's certificate, or ask your IT team for its CA."
        )
    if isinstance(exc, ssl.SSLError):
        return f"no secure connection could be made with {where} ({exc.reason or exc}). {_TLS_SETTINGS}"
    if isinstance(exc, socket.gaierror):
        return f"the mail server {smtp.host} cannot be found ({exc.strerror}). {_SERVER_SETTINGS}"
    if isinstance(exc, TimeoutError):
        return f"the mail server {where} did not answer within {timeout:g} seconds. {_SERVER_SETTINGS}"
    if isinstance(exc, ConnectionRefusedError):
        return f"the mail server {where} refused the connection. {_SERVER_SETTINGS}"
    return f"the mail server {where} could not be reached ({getattr(exc, 'strerror', None) or exc}). {_SERVER_SETTINGS}"


def _not_supported(text: str, where: str) -> str:
    if "STARTTLS" in text:
        return (
            f"the mail server {where} does not offer STARTTLS. Set PBLOAD_SMTP_TLS to ssl (usually "
            "port 465), or to none only for a relay on a trusted network."
        )
    if "AUTH" in text:
        return (
            f"the mail server {where} does not take a user name and password on this connection. "
            "Use PBLOAD_SMTP_TLS=starttls or ssl, or unset PBLOAD_SMTP_USER if it needs none."
        )
    return f"the mail server {where} does not support what pbload asked ({text}). {_TLS_SETTINGS}"


def _reply(exc: BaseException) -> str:
    code, error = getattr(exc, "smtp_code", None), getattr(exc, "smtp_error", None)
    if isinstance(error, bytes):
        error = error.decode("utf-8", "replace")
    return (
        " ".join(str(p) for p in (code, error) if p not in (None, "", -1)) or str(exc) or type(exc).__name__
    )


def _refusals(refused: Mapping[str, tuple[int, bytes | str]]) -> str:
    parts = []
    for address, (code, error) in refused.items():
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        parts.append(f"{address} ({code} {text})")
    return ", ".join(parts)


def _scrub(text: str, smtp: SmtpSettings) -> str:
    """Never let a password through, should a server ever echo it."""
    return redact(text, (smtp.password,) if smtp.password else ())


def email_result(
    summary: Summary,
    result_path: Path,
    to: Sequence[str],
    smtp: SmtpSettings,
    *,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = SMTP_TIMEOUT_S,
) -> None:
    """Build the e-mail about `summary` with `result_path` attached and send it to `to`."""
    check_ready(smtp)
    message = build_message(summary, result_path, smtp.mail_from, check_addresses(to), smtp.zip_above_mb)
    send(message, smtp, ssl_context=ssl_context, timeout=timeout)
