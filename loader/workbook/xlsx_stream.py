"""Moved to `loader.workbook.result.stream`: this name stays until the modules that import it switch."""

from loader.workbook.result.stream import write_streamed  # noqa: F401
