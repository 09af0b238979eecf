"""pbload's exception tree.

Exceptions are for runs that cannot go on; problems with single rows or items are data
(`loader.models.Issue`, item outcomes), never exceptions.

    PbloadError                 anything pbload reports to the user; the CLI exits 2
    ├── SettingsError           bad or missing settings or credentials
    ├── WorkbookError           the workbook cannot be read or does not fit a template
    ├── ResultError             the result workbook cannot be written where it should go
    ├── JournalError            pbload's journal cannot be read or written (disk full, damaged file)
    ├── BusyError               another run is loading the same workbook into the same API
    ├── MailError               the result could not be e-mailed (loader.notify)
    ├── ControlError            the emulator's control plane refused or failed (`pbload emulator advance`)
    ├── WriteRefused            `pbload doctor` was about to make a call that is not a read (loader.doctor)
    └── ApiError                the API could not be used at all
        ├── AuthenticationError the credentials were refused
        └── UnreachableError    no answer from the API after retries
            ├── NoAnswerError   one request ran out of tries (its rows FAILED, the run goes on)
            └── ApiDownError    the breaker opened: the API is down as a whole

Every message is one or two plain sentences that say what to do next.
"""


class PbloadError(Exception):
    """An error that stops the run; its message is shown to the user as is."""


class SettingsError(PbloadError):
    """Settings or credentials are missing or wrong."""


class WorkbookError(PbloadError):
    """The workbook cannot be read, or does not have the sheets and columns pbload needs."""


class ResultError(PbloadError):
    """The result workbook cannot be written (folder missing or read-only, a folder or locked file in its
    place, disk full)."""


class JournalError(PbloadError):
    """pbload's journal in the state directory cannot be read or written."""


class BusyError(PbloadError):
    """Another pbload run is loading the same workbook into the same API right now."""


class MailError(PbloadError):
    """The e-mail could not be sent; the message says why and what to do next."""


class ControlError(PbloadError):
    """A control request to the emulator failed; the message says why in plain words."""


class WriteRefused(PbloadError):
    """A call doctor must never make: neither a read, nor the one refused-update probe."""


class ApiError(PbloadError):
    """The API could not be used at all (as opposed to rejecting single items)."""


class AuthenticationError(ApiError):
    """The API refused the credentials."""


class UnreachableError(ApiError):
    """The API did not answer."""


class NoAnswerError(UnreachableError):
    """One request got no answer after all its tries; the API may still be up (the breaker did not open)."""

    def __init__(
        self, message: str, attempts: int = 1, uncertain: bool = True, transaction_id: str = ""
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.uncertain = uncertain  # an attempt may have reached PB and been carried out
        self.transaction_id = transaction_id


class ApiDownError(UnreachableError):
    """The API is down as a whole: the breaker opened, nothing more is sent in this run."""
