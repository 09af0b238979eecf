"""E-mail: rendering against golden files, and real delivery to an SMTP server on loopback (aiosmtpd).

Every SMTP exchange here is with a server this test started on 127.0.0.1 at a port the system chose;
clients carry a time-out, so a test that goes wrong fails instead of hanging.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import ssl
import zipfile
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from loader import notify
from loader.errors import SettingsError, WorkbookError
from loader.models import Outcome, RunReport, SheetReport, Status
from loader.settings import SMTP_ENV, SMTP_PASSWORD_ENV, SmtpSettings, load_smtp_settings
from tests.helpers import REPO, SAMPLES

GOLDEN = Path(__file__).parent / "golden" / "email"
UPDATE_GOLDEN = os.environ.get("PBLOAD_UPDATE_GOLDEN") == "1"  # rewrite the golden files from the templates
SENDER = "pbload@example.com"
USER, PASSWORD = "clerk", "s3cret-Pa55"
TIMEOUT_S = 10.0
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- a real SMTP server on loopback -------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps what it accepts and refuses addresses starting with nobody@."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def only(self) -> EmailMessage:
        assert len(self.envelopes) == 1
        return message_from_bytes(self.envelopes[0].content, policy=policy.default)


class LoopbackController(Controller):
    """aiosmtpd's threaded server bound to port 0, reading back the port the system gave it."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp_server():
    """start(**aiosmtpd options) -> a running server on 127.0.0.1; `.handler` is its Inbox."""
    started: list[LoopbackController] = []

    def start(**options) -> LoopbackController:
        controller = LoopbackController(
            Inbox(), hostname="127.0.0.1", port=0, ready_timeout=TIMEOUT_S, **options
        )
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that nothing listens on (held, so nothing else takes it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture(autouse=True)
def no_mail_settings_from_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*SMTP_ENV.values(), SMTP_PASSWORD_ENV):
        monkeypatch.delenv(name, raising=False)


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


def smtp_to(server: LoopbackController, **options) -> SmtpSettings:
    return SmtpSettings(
        **{"host": "127.0.0.1", "port": server.port, "tls": "none", "sender": SENDER, **options}
    )


def mail_env(port: int, **extra: str) -> dict[str, str]:
    return {
        "PBLOAD_SMTP_HOST": "127.0.0.1",
        "PBLOAD_SMTP_PORT": str(port),
        "PBLOAD_SMTP_TLS": "none",
        "PBLOAD_MAIL_FROM": SENDER,
        **extra,
    }


def attachment(message: EmailMessage) -> tuple[str, str, bytes]:
    (part,) = list(message.iter_attachments())
    return part.get_filename(), part.get_content_type(), part.get_content()


# --- deterministic runs to render ---------------------------------------------------------------------

STARTED = datetime(2026, 3, 2, 9, 15, 0, tzinfo=UTC)


def run_report(command: str, sheets: dict[str, list[Status]], input_name: str = "orders.xlsx") -> RunReport:
    report = RunReport(
        run_id="a1b2c3d4e5f6",
        command=command,
        input_path=f"/data/{input_name}",
        input_sha256="0" * 64,
        environment="sandbox" if command == "load" else "local",
        started=STARTED,
        ended=STARTED + timedelta(seconds=42),
        result_path=f"/data/{Path(input_name).stem}.result.xlsx",
    )
    for name, statuses in sheets.items():
        rows = list(range(2, 2 + len(statuses)))
        report.sheets.append(
            SheetReport(name, rows, {r: Outcome(s) for r, s in zip(rows, statuses, strict=False)})
        )
    return report


def with_messages(report: RunReport) -> RunReport:
    """The report with a code and PB's message on each failed, invalid or blocked row."""
    for sheet in report.sheets:
        for row, outcome in sheet.outcomes.items():
            if outcome.status in notify.FAILED_STATUSES:
                sheet.outcomes[row] = Outcome(
                    outcome.status, None, f"PB-40{row % 10}", f"Row {row} of {sheet.sheet} was refused."
                )
    return report


RUNS = {
    "load": with_messages(run_report("load", {"Orders": [Status.CREATED] * 497 + [Status.FAILED] * 3})),
    "validate": with_messages(
        run_report(
            "validate", {"Products": [Status.VALID] * 20, "Orders": [Status.VALID] * 5 + [Status.INVALID] * 2}
        )
    ),
}


# --- render -------------------------------------------------------------------------------------------


def test_subject_has_the_input_name_and_counts_in_a_fixed_order():
    assert notify.subject_for(notify.summary_from_report(RUNS["load"])) == (
        "pbload: orders.xlsx — 497 created, 3 failed"
    )
    assert notify.subject_for(notify.summary_from_report(RUNS["validate"])) == (
        "pbload: orders.xlsx — 25 valid, 2 invalid"
    )
    mixed = run_report(
        "load",
        {
            "Products": [
                Status.NOT_SENT,
                Status.FAILED,
                Status.UNCHANGED,
                Status.CREATED,
                Status.BLOCKED,
                Status.UPDATED,
            ]
        },
    )
    assert notify.subject_for(notify.summary_from_report(mixed)) == (
        "pbload: orders.xlsx — 1 created, 1 updated, 1 unchanged, 1 failed, 1 blocked, 1 not sent"
    )
    assert notify.subject_for(notify.summary_from_report(run_report("load", {"Orders": []}))) == (
        "pbload: orders.xlsx — no data rows"
    )


@pytest.mark.parametrize("name", sorted(RUNS))
def test_bodies_match_the_golden_files(name: str):
    subject, text, html = notify.render(notify.summary_from_report(RUNS[name]))
    for suffix, rendered in (("subject", subject + "\n"), ("txt", text), ("html", html)):
        golden = GOLDEN / f"{name}.{suffix}"
        if UPDATE_GOLDEN:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(rendered, encoding="utf-8")
        assert rendered == golden.read_text(encoding="utf-8"), (
            f"{golden.name} differs (PBLOAD_UPDATE_GOLDEN=1)"
        )


def test_html_escapes_sheet_and_file_names_the_text_keeps_them():
    report = run_report("load", {"R&D <new>": [Status.CREATED]}, input_name="<b>orders.xlsx")
    subject, text, html = notify.render(notify.summary_from_report(report))
    assert subject == "pbload: <b>orders.xlsx — 1 created"
    assert (
        "R&amp;D &lt;new&gt;" in html
        and "&lt;b&gt;orders.xlsx" in html
        and "&lt;b&gt;orders.result.xlsx" in html
    )
    assert "<new>" not in html and "<b><b>" not in html
    assert "R&D <new>" in text and "<b>orders.xlsx" in text


def test_a_zipped_attachment_is_named_in_the_body():
    _, text, html = notify.render(notify.summary_from_report(RUNS["load"]), attachment="orders.result.zip")
    assert "Result file  orders.result.xlsx (attached inside orders.result.zip)" in text
    assert "orders.result.xlsx (attached inside orders.result.zip)" in html


def test_templates_are_read_from_the_repository():
    assert notify.template_dir() == REPO / "templates" / "email"


# --- the summary read back from a result workbook -------------------------------------------------------


def test_summary_from_a_result_workbook(cli, tmp_path: Path):
    workbook = shutil.copy(SAMPLES / "orders-with-errors.xlsx", tmp_path)
    assert cli("validate", workbook, "--offline").exit_code == 1  # offline: its SKUs are in no emulator
    summary = notify.summary_from_result(tmp_path / "orders-with-errors.result.xlsx")
    assert (summary.input_name, summary.result_name, summary.command, summary.environment) == (
        "orders-with-errors.xlsx",
        "orders-with-errors.result.xlsx",
        "validate",
        "local",
    )
    assert [(s.sheet, s.rows, dict(s.counts)) for s in summary.sheets] == [
        ("Orders", 14, {Status.INVALID: 11, Status.VALID: 3})
    ]
    assert len(summary.run_id) == 12 and summary.started <= summary.ended
    assert notify.subject_for(summary) == "pbload: orders-with-errors.xlsx — 3 valid, 11 invalid"
    # the rows to fix, read back from the Errors sheet: each row once, its first error
    assert [(r.sheet, r.row, r.code) for r in summary.failed_rows][:3] == [
        ("Orders", 4, "required"),
        ("Orders", 5, "required"),
        ("Orders", 6, "invalid-group"),
    ]
    assert len(summary.failed_rows) == 11 and summary.failed == 11


def test_summary_of_a_workbook_that_is_not_a_result(tmp_path: Path):
    with pytest.raises(
        WorkbookError, match=r"^products.xlsx has no Summary sheet, so it is not a pbload result"
    ):
        notify.summary_from_result(SAMPLES / "products.xlsx")
    (tmp_path / "notes.xlsx").write_text("not a workbook")
    with pytest.raises(WorkbookError, match="cannot be read as a workbook"):
        notify.summary_from_result(tmp_path / "notes.xlsx")


# --- delivery -----------------------------------------------------------------------------------------


@pytest.fixture
def result_file(tmp_path: Path) -> Path:
    """Bytes standing in for a result workbook (the attachment must carry them exactly)."""
    path = tmp_path / "orders.result.xlsx"
    path.write_bytes(bytes(range(256)) * 64)
    return path


def test_plain_smtp_delivers_bodies_and_the_workbook(smtp_server, result_file: Path):
    server = smtp_server()
    summary = notify.summary_from_report(RUNS["load"])
    notify.email_result(
        summary, result_file, ["ops@example.com", "lead@example.com"], smtp_to(server), timeout=TIMEOUT_S
    )
    envelope = server.handler.envelopes[0]
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, ["ops@example.com", "lead@example.com"])
    message = server.handler.only()
    assert message["Subject"] == "pbload: orders.xlsx — 497 created, 3 failed"
    assert (message["From"], message["To"]) == (SENDER, "ops@example.com, lead@example.com")
    _, text, html = notify.render(summary)
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == text  # SMTP sends CRLF
    assert message.get_body(("html",)).get_content().replace("\r\n", "\n") == html
    assert attachment(message) == ("orders.result.xlsx", XLSX, result_file.read_bytes())


def test_the_first_twenty_failed_rows_are_listed_in_both_bodies(smtp_server, result_file: Path):
    server = smtp_server()
    statuses = [Status.CREATED] * 5 + [Status.FAILED] * 20 + [Status.INVALID] * 3 + [Status.BLOCKED] * 2
    report = with_messages(run_report("load", {"Orders": statuses}))
    report.sheets[0].outcomes[7] = Outcome(
        Status.FAILED, None, "PB-4001", "Refused: token=abc123secret\nsee log"
    )
    notify.email_result(
        notify.summary_from_report(report),
        result_file,
        ["ops@example.com"],
        smtp_to(server),
        timeout=TIMEOUT_S,
    )
    message = server.handler.only()
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content()
    listed = text.split("Rows that did not load:\n\n")[1].split("\n\n")[0].splitlines()
    assert listed[:3] == [
        "Sheet   Row  Code     Message",
        "Orders    7  PB-4001  Refused: token=[hidden] see log",
        "Orders    8  PB-408   Row 8 of Orders was refused.",
    ]
    assert len(listed) == 1 + 20 + 1 and listed[20].startswith(
        "Orders   26  PB-406"
    )  # the first 20, in row order
    assert listed[-1] == "... and 5 more rows in orders.result.xlsx (its Errors sheet lists every problem)."
    assert html.count("was refused.</td>") == 19 and "Refused: token=[hidden] see log</td>" in html
    assert "&hellip; and 5 more rows in <b>orders.result.xlsx</b>" in html
    assert "abc123secret" not in text + html


def test_no_failed_rows_no_list():
    _, text, html = notify.render(
        notify.summary_from_report(run_report("load", {"Orders": [Status.CREATED]}))
    )
    assert "did not load" not in text and "did not load" not in html


def test_above_the_size_limit_the_workbook_goes_zipped(smtp_server, result_file: Path):
    server = smtp_server()
    smtp = smtp_to(server, zip_above_mb=0.01)  # 10 KiB; the file has 16
    notify.email_result(
        notify.summary_from_report(RUNS["load"]), result_file, ["ops@example.com"], smtp, timeout=TIMEOUT_S
    )
    name, content_type, data = attachment(server.handler.only())
    assert (name, content_type) == ("orders.result.zip", "application/zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["orders.result.xlsx"]
        assert archive.read("orders.result.xlsx") == result_file.read_bytes()


def test_starttls(smtp_server, server_tls, client_tls, result_file: Path):
    server = smtp_server(tls_context=server_tls, require_starttls=True)
    notify.email_result(
        notify.summary_from_report(RUNS["load"]),
        result_file,
        ["ops@example.com"],
        smtp_to(server, tls="starttls"),
        ssl_context=client_tls,
        timeout=TIMEOUT_S,
    )
    assert attachment(server.handler.only())[2] == result_file.read_bytes()


def test_implicit_tls(smtp_server, server_tls, client_tls, result_file: Path):
    server = smtp_server(ssl_context=server_tls)
    notify.email_result(
        notify.summary_from_report(RUNS["load"]),
        result_file,
        ["ops@example.com"],
        smtp_to(server, tls="ssl"),
        ssl_context=client_tls,
        timeout=TIMEOUT_S,
    )
    assert attachment(server.handler.only())[2] == result_file.read_bytes()


def test_login_over_starttls_and_the_password_is_nowhere_in_the_mail(
    smtp_server, server_tls, client_tls, result_file: Path
):
    server = smtp_server(
        tls_context=server_tls, require_starttls=True, authenticator=authenticator, auth_required=True
    )
    notify.email_result(
        notify.summary_from_report(RUNS["load"]),
        result_file,
        ["ops@example.com"],
        smtp_to(server, tls="starttls", user=USER, password=PASSWORD),
        ssl_context=client_tls,
        timeout=TIMEOUT_S,
    )
    assert PASSWORD.encode() not in server.handler.envelopes[0].content
    assert attachment(server.handler.only())[2] == result_file.read_bytes()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_on_a_plain_connection(smtp_server, result_file: Path):
    server = smtp_server(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    notify.email_result(
        notify.summary_from_report(RUNS["load"]),
        result_file,
        ["ops@example.com"],
        smtp_to(server, user=USER, password=PASSWORD),
        timeout=TIMEOUT_S,
    )
    assert len(server.handler.envelopes) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_wrong_password_says_so_and_never_shows_it(smtp_server, result_file: Path):
    server = smtp_server(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    smtp = smtp_to(server, user=USER, password="wrong-" + PASSWORD)
    with pytest.raises(notify.MailError) as caught:
        notify.email_result(
            notify.summary_from_report(RUNS["load"]),
            result_file,
            ["ops@example.com"],
            smtp,
            timeout=TIMEOUT_S,
        )
    assert str(caught.value) == (
        f"The e-mail was not sent: the mail server 127.0.0.1:{server.port} refused the user name or password "
        "of clerk (535 5.7.8 Authentication credentials invalid). Check PBLOAD_SMTP_USER and PBLOAD_SMTP_PASSWORD."
    )
    assert PASSWORD not in str(caught.value) and PASSWORD not in repr(smtp)
    assert server.handler.envelopes == []


def test_an_untrusted_certificate_says_so(smtp_server, server_tls, result_file: Path):
    server = smtp_server(tls_context=server_tls, require_starttls=True)
    with pytest.raises(
        notify.MailError,
        match=(
            rf"^The e-mail was not sent: the certificate of 127.0.0.1:{server.port} could not be trusted "
            r"\(.+\)\. Check that PBLOAD_SMTP_HOST is the name on the server's certificate"
        ),
    ):
        notify.email_result(
            notify.summary_from_report(RUNS["load"]),
            result_file,
            ["ops@example.com"],
            smtp_to(server, tls="starttls"),
            timeout=TIMEOUT_S,
        )


def test_a_server_without_starttls_says_what_to_set(smtp_server, result_file: Path):
    server = smtp_server()
    with pytest.raises(notify.MailError) as caught:
        notify.email_result(
            notify.summary_from_report(RUNS["load"]),
            result_file,
            ["ops@example.com"],
            smtp_to(server, tls="starttls"),
            timeout=TIMEOUT_S,
        )
    assert str(caught.value) == (
        f"The e-mail was not sent: the mail server 127.0.0.1:{server.port} does not offer STARTTLS. Set "
        "PBLOAD_SMTP_TLS to ssl (usually port 465), or to none only for a relay on a trusted network."
    )


def test_a_refused_recipient_is_named(smtp_server, result_file: Path):
    server = smtp_server()
    with pytest.raises(notify.MailError) as caught:
        notify.email_result(
            notify.summary_from_report(RUNS["load"]),
            result_file,
            ["nobody@example.com"],
            smtp_to(server),
            timeout=TIMEOUT_S,
        )
    assert str(caught.value) == (
        "The e-mail was not sent: the mail server refused nobody@example.com "
        "(550 5.1.1 No such user here). Check the addresses."
    )
    with pytest.raises(notify.MailError, match=r"^The e-mail went out, but the mail server refused nobody@"):
        notify.email_result(
            notify.summary_from_report(RUNS["load"]),
            result_file,
            ["ops@example.com", "nobody@example.com"],
            smtp_to(server),
            timeout=TIMEOUT_S,
        )
    assert server.handler.envelopes[0].rcpt_tos == ["ops@example.com"]


def test_a_closed_port_says_so(closed_port: int, result_file: Path):
    smtp = SmtpSettings(host="127.0.0.1", port=closed_port, tls="none", sender=SENDER)
    with pytest.raises(notify.MailError) as caught:
        notify.email_result(
            notify.summary_from_report(RUNS["load"]),
            result_file,
            ["ops@example.com"],
            smtp,
            timeout=TIMEOUT_S,
        )
    assert str(caught.value) == (
        f"The e-mail was not sent: the mail server 127.0.0.1:{closed_port} refused the connection. Check "
        "PBLOAD_SMTP_HOST and PBLOAD_SMTP_PORT (or host and port under [smtp] in pbload.toml)."
    )


def test_addresses_are_checked():
    assert notify.check_addresses([" ops@example.com "]) == ["ops@example.com"]
    for bad in ("ops", "ops@example.com, lead@example.com", "Ops <ops@example.com>"):
        with pytest.raises(notify.MailError, match=f"^'{bad}' is not an e-mail address"):
            notify.check_addresses([bad])


# --- the command line ---------------------------------------------------------------------------------


def test_load_email_to_delivers_the_result(cli, smtp_server, tmp_path: Path):
    server = smtp_server()
    workbook = shutil.copy(SAMPLES / "products.xlsx", tmp_path)
    result = cli("load", workbook, "--email-to", "ops@example.com", env=mail_env(server.port))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "E-mailed products.result.xlsx to ops@example.com."
    message = server.handler.only()
    assert message["Subject"] == "pbload: products.xlsx — 26 created"
    assert attachment(message) == (
        "products.result.xlsx",
        XLSX,
        (tmp_path / "products.result.xlsx").read_bytes(),
    )


def test_validate_email_to_over_starttls_with_login(cli, smtp_server, server_tls, ca, tmp_path: Path):
    server = smtp_server(
        tls_context=server_tls, require_starttls=True, authenticator=authenticator, auth_required=True
    )
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    workbook = shutil.copy(SAMPLES / "orders-with-errors.xlsx", tmp_path)
    env = mail_env(
        server.port,
        PBLOAD_SMTP_TLS="starttls",
        PBLOAD_SMTP_USER=USER,
        PBLOAD_SMTP_PASSWORD=PASSWORD,
        SSL_CERT_FILE=str(tmp_path / "ca.pem"),
    )  # how a company's own CA is trusted, too
    result = cli(
        "validate",
        workbook,
        "--offline",
        "--email-to",
        "a@example.com",
        "--email-to",
        "b@example.com",
        env=env,
    )
    assert result.exit_code == 1, result.output
    assert "E-mailed orders-with-errors.result.xlsx to a@example.com, b@example.com." in result.stdout
    assert server.handler.envelopes[0].rcpt_tos == ["a@example.com", "b@example.com"]
    assert server.handler.only()["Subject"] == "pbload: orders-with-errors.xlsx — 3 valid, 11 invalid"
    assert PASSWORD not in result.output


def test_a_failed_send_after_a_load_keeps_the_loads_exit_code(cli, closed_port: int, tmp_path: Path):
    shutil.copy(SAMPLES / "products-with-errors.xlsx", tmp_path)  # the current directory
    result = cli(
        "load", "products-with-errors.xlsx", "--email-to", "ops@example.com", env=mail_env(closed_port)
    )
    assert result.exit_code == 1  # some rows invalid: the load's code, not 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: The e-mail was not sent: the mail server 127.0.0.1:{closed_port} refused the connection. Check "
        "PBLOAD_SMTP_HOST and PBLOAD_SMTP_PORT (or host and port under [smtp] in pbload.toml). The result "
        "workbook is still at products-with-errors.result.xlsx; send it later with "
        "`pbload email products-with-errors.result.xlsx --to ops@example.com`."
    )
    assert (tmp_path / "products-with-errors.result.xlsx").is_file()


def test_email_to_without_a_mail_server_stops_before_loading(cli, tmp_path: Path):
    workbook = shutil.copy(SAMPLES / "products.xlsx", tmp_path)
    result = cli("load", workbook, "--email-to", "ops@example.com")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: E-mail needs a mail server, but PBLOAD_SMTP_HOST is not set. Set it (with PBLOAD_SMTP_PORT, "
        "PBLOAD_SMTP_TLS, PBLOAD_SMTP_USER and PBLOAD_SMTP_PASSWORD as your server needs), or put host under "
        "[smtp] in pbload.toml.\n"
    )
    assert not (tmp_path / "products.result.xlsx").exists()


def test_a_bad_address_is_a_usage_error(cli, tmp_path: Path):
    result = cli("validate", SAMPLES / "products.xlsx", "--email-to", "ops")
    assert result.exit_code == 2
    assert "Invalid value for '--email-to': 'ops' is not an e-mail address." in result.stderr


def test_pbload_email_sends_a_result_workbook(cli, smtp_server, tmp_path: Path):
    server = smtp_server()
    workbook = shutil.copy(SAMPLES / "orders-with-errors.xlsx", tmp_path)
    cli("validate", workbook, "--offline")
    result_path = tmp_path / "orders-with-errors.result.xlsx"
    result = cli(
        "email",
        result_path,
        "--to",
        "a@example.com",
        "--to",
        "b@example.com",
        env=mail_env(server.port, PBLOAD_MAIL_ZIP_ABOVE_MB="0.001"),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "E-mailed orders-with-errors.result.xlsx to a@example.com, b@example.com.\n"
    message = server.handler.only()
    assert message["Subject"] == "pbload: orders-with-errors.xlsx — 3 valid, 11 invalid"
    name, content_type, data = attachment(message)
    assert (name, content_type) == ("orders-with-errors.result.zip", "application/zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("orders-with-errors.result.xlsx") == result_path.read_bytes()


def test_pbload_email_that_cannot_send_exits_2(cli, closed_port: int, tmp_path: Path):
    workbook = shutil.copy(SAMPLES / "orders-with-errors.xlsx", tmp_path)
    cli("validate", workbook)
    result = cli(
        "email",
        tmp_path / "orders-with-errors.result.xlsx",
        "--to",
        "a@example.com",
        env=mail_env(closed_port),
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"Error: The e-mail was not sent: the mail server 127.0.0.1:{closed_port} refused the connection."
    )


def test_pbload_email_of_a_workbook_that_is_not_a_result(cli, smtp_server):
    server = smtp_server()
    result = cli("email", SAMPLES / "products.xlsx", "--to", "a@example.com", env=mail_env(server.port))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: products.xlsx has no Summary sheet, so it is not a pbload result workbook. "
        "Give the .result.xlsx file that pbload load or validate wrote.\n"
    )
    assert server.handler.envelopes == []


# --- settings -----------------------------------------------------------------------------------------


def test_smtp_settings_from_the_environment_then_pbload_toml(tmp_path: Path):
    (tmp_path / "pbload.toml").write_text(
        '[pbload]\nchunk_size = 50\n\n[smtp]\nhost = "mail.example.com"\nuser = "clerk@example.com"\n'
        'tls = "ssl"\nzip_above_mb = 5\n'
    )
    smtp = load_smtp_settings({SMTP_PASSWORD_ENV: PASSWORD}, cwd=tmp_path)
    assert (smtp.host, smtp.port, smtp.tls, smtp.user, smtp.password, smtp.zip_above_mb) == (
        "mail.example.com",
        465,
        "ssl",
        "clerk@example.com",
        PASSWORD,
        5.0,
    )
    assert smtp.mail_from == "clerk@example.com" and PASSWORD not in repr(smtp)
    smtp = load_smtp_settings(
        {"PBLOAD_SMTP_HOST": "relay", "PBLOAD_SMTP_TLS": "none", "PBLOAD_MAIL_FROM": SENDER}, cwd=tmp_path
    )
    assert (smtp.host, smtp.port, smtp.tls, smtp.mail_from) == ("relay", 25, "none", SENDER)


def test_smtp_defaults(tmp_path: Path):
    smtp = load_smtp_settings({}, cwd=tmp_path)
    assert (smtp.host, smtp.port, smtp.tls, smtp.zip_above_mb) == (None, 587, "starttls", 10.0)


def test_smtp_table_in_a_flat_pbload_toml(tmp_path: Path):
    (tmp_path / "pbload.toml").write_text(
        f'chunk_size = 50\n\n[smtp]\nhost = "mail.example.com"\nport = 2525\nfrom = "{SENDER}"\n'
    )  # a sender: this machine's name may be no domain
    assert load_smtp_settings({}, cwd=tmp_path).port == 2525


def test_an_unknown_smtp_key_names_the_known_ones(tmp_path: Path):
    (tmp_path / "pbload.toml").write_text('[smtp]\nhost = "mail.example.com"\npassword = "oops"\n')
    with pytest.raises(SettingsError) as caught:
        load_smtp_settings({}, cwd=tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'pbload.toml'} has unknown [smtp] settings: password. Known: from, host, port, tls, user, "
        "zip_above_mb. (The password goes in the environment as PBLOAD_SMTP_PASSWORD, not in this file.)"
    )


def test_bad_smtp_values(tmp_path: Path):
    with pytest.raises(SettingsError, match="^SMTP TLS mode must be one of none, starttls, ssl, not 'tls'"):
        load_smtp_settings({"PBLOAD_SMTP_TLS": "tls"}, cwd=tmp_path)
    with pytest.raises(SettingsError, match="^SMTP port must be a whole number from 1 to 65535, not 'abc'"):
        load_smtp_settings({"PBLOAD_SMTP_PORT": "abc"}, cwd=tmp_path)
    with pytest.raises(
        SettingsError, match="^zip-above-mb must be a number of megabytes, 0 or more, not '-1'"
    ):
        load_smtp_settings({"PBLOAD_MAIL_ZIP_ABOVE_MB": "-1"}, cwd=tmp_path)


def test_a_user_without_a_password_is_caught_before_the_run():
    with pytest.raises(
        SettingsError, match="^PBLOAD_SMTP_USER is clerk, but PBLOAD_SMTP_PASSWORD is not set"
    ):
        notify.check_ready(SmtpSettings(host="mail.example.com", user=USER))


# --- secrets: a server that echoes the password, --debug ------------------------------------------------


def echoing_authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    """Refuses every login and, as a careless server might, quotes the password it was given."""
    given = auth_data.password.decode() if isinstance(auth_data, LoginPassword) else "?"
    return AuthResult(success=False, handled=False, message=f"535 5.7.8 {given} is not the password")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_password_the_server_echoes_is_hidden_in_the_message(smtp_server, result_file: Path):
    server = smtp_server(authenticator=echoing_authenticator, auth_required=True, auth_require_tls=False)
    with pytest.raises(notify.MailError) as caught:
        notify.email_result(
            notify.summary_from_report(RUNS["load"]),
            result_file,
            ["ops@example.com"],
            smtp_to(server, user=USER, password=PASSWORD),
            timeout=TIMEOUT_S,
        )
    assert PASSWORD in str(caught.value.__cause__)  # the server did echo it
    assert str(caught.value) == (
        f"The e-mail was not sent: the mail server 127.0.0.1:{server.port} refused the user name or password "
        "of clerk (535 5.7.8 [hidden] is not the password). Check PBLOAD_SMTP_USER and PBLOAD_SMTP_PASSWORD."
    )


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("command", ["email", "validate --email-to"])
def test_debug_output_never_shows_the_password_the_server_echoes(
    cli, smtp_server, tmp_path: Path, command: str
):
    server = smtp_server(authenticator=echoing_authenticator, auth_required=True, auth_require_tls=False)
    workbook = shutil.copy(SAMPLES / "orders-with-errors.xlsx", tmp_path)
    env = mail_env(server.port, PBLOAD_SMTP_USER=USER, PBLOAD_SMTP_PASSWORD=PASSWORD)
    if command == "email":
        cli("validate", workbook)
        result = cli(
            "--debug", "email", tmp_path / "orders-with-errors.result.xlsx", "--to", "a@example.com", env=env
        )
    else:
        result = cli("--debug", "validate", workbook, "--email-to", "a@example.com", env=env)
    assert result.exit_code == (2 if command == "email" else 1)
    assert "Traceback (most recent call last)" in result.stderr
    assert "SMTPAuthenticationError" in result.stderr  # the chained exception is shown, masked
    assert "535, b'5.7.8 [hidden] is not the password'" in result.stderr
    assert PASSWORD not in result.output and PASSWORD not in result.stderr
