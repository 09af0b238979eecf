"""Moved to `loader.workbook.result`: these names stay until the modules that import them switch."""

from loader.workbook.result import (  # noqa: F401
    OPENPYXL,
    STREAM,
    check_writable,
    discard_temporaries,
    result_path_for,
    save_atomically,
    write_problem,
)
from loader.workbook.result import write_result as write_result_workbook  # noqa: F401
from loader.workbook.result.fallback import set_text  # noqa: F401


def write_result(input_path, output, report, positions):
    """The result's path, as this name returned it (`loader.workbook.result.write_result` gives a `Written`)."""
    return write_result_workbook(input_path, output, report, positions).path
