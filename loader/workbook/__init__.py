"""Workbooks: reading input sheets, writing templates and result workbooks."""

# The columns pbload adds to each data sheet of a result workbook. The reader ignores them, so a
# result workbook can be loaded again as it is. Changes comes last: a result written before it
# existed, loaded again, gets it after its own five.
RESULT_COLUMNS = ("Status", "PB ID", "Error Code", "Message", "Transaction ID", "Changes")

# Sheets pbload writes itself and never reads as data.
SUMMARY_SHEET = "Summary"
ERRORS_SHEET = "Errors"
INSTRUCTIONS_SHEET = "Instructions"
META_SHEET = "_pbload"
