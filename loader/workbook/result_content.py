"""Moved to `loader.workbook.result.content`: these names stay until the modules that import them switch."""

from loader.workbook.result.content import (  # noqa: F401
    ERRORS_WIDTHS,
    RESULT_HEADER_FILL,
    SUMMARY_VALUE_WIDTH,
    change_counts,
    run_record,
    summary_rows,
    summary_table,
)
