"""What makes the stream editor hand a workbook over: to the openpyxl path, or back to the user."""


class Unsupported(Exception):
    """The stream editor met something it does not handle; the faithful (slower) path must write this one."""


class StrictWorkbook(Exception):
    """The workbook is Strict Open XML, which neither writer can keep faithfully."""
