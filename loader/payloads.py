"""`--payloads FILE.jsonl`: each item's JSON body as pbload sends it, with its sheet and rows.

One line per item, so a user can show PB support exactly what went out (or, from `validate`, what
would). Bodies hold what the workbook said plus the client ID; tokens and keys travel in headers and
never reach this file.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from loader.errors import WorkbookError
from loader.models import Item


class PayloadLog:
    """Appends one JSON line per item body; the same body for the same item is written once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._file = path.open("w", encoding="utf-8")
        except OSError as exc:
            raise WorkbookError(
                f"Cannot write the payloads file {path} ({exc.strerror}). Choose another --payloads path."
            ) from exc
        self._seen: set[int] = set()  # hashes of the lines written
        self._lock = threading.Lock()
        self.count = 0

    def record(self, item: Item, body: dict[str, Any], operation: str | None = None) -> None:
        """Write `body` for `item` (sent by `operation`, e.g. `POST /v1/orders/bulk`), unless already written."""
        line = {
            "sheet": item.sheet,
            "rows": list(item.rows),
            "key": item.key,
            "operation": operation,
            "body": body,
        }
        text = json.dumps(line, ensure_ascii=False)
        with self._lock:
            if hash(text) in self._seen:
                return  # the same body again: a retry, or a bulk call split in halves
            self._seen.add(hash(text))
            self._file.write(text + "\n")
            self.count += 1

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def __enter__(self) -> PayloadLog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
