"""Moved to `loader.workbook.result.content`: these names stay until the modules that import them switch."""

from loader.workbook.result.content import ERRORS_WIDTHS, RESULT_HEADER_FILL, SUMMARY_VALUE_WIDTH  # noqa: F401
from loader.workbook.result.content import change_counts, run_record, summary_rows, summary_table  # noqa: F401
