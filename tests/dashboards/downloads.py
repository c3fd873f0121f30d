"""Reading the CSV downloads in tests: they stream, and start with a byte-order mark."""

from __future__ import annotations

from typing import Any

BOM = "\ufeff"


def csv_text(response: Any) -> str:
    """The text of a streamed CSV download, without the byte-order mark (which it must have)."""
    assert response.streaming, "a CSV download streams"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith(BOM), "a CSV download starts with a UTF-8 byte-order mark"
    return text[len(BOM) :]
