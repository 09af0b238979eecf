"""Workbooks: reading input sheets, writing templates and result workbooks."""

# The columns pbload adds to each data sheet of a result workbook. The reader ignores them, so a
# result workbook can be loaded again as it is.
RESULT_COLUMNS = ("Status", "PB ID", "Error Code", "Message", "Transaction ID")

# Sheets pbload writes itself and never reads as data.
SUMMARY_SHEET = "Summary"
ERRORS_SHEET = "Errors"
INSTRUCTIONS_SHEET = "Instructions"
META_SHEET = "_pbload"
