"""Peak memory of one block of code, measured without slowing it down.

On Linux the kernel keeps each process's peak resident set (``VmHWM``) and resets it to the
current size when ``5`` is written to ``/proc/self/clear_refs``: the peak growth of a block is
its ``VmHWM`` at the end minus the resident size at its start, with no cost to the code
measured, so the same request gives both its time and its memory. Elsewhere ``tracemalloc``
traces Python's allocations instead, which slows Python code several times over; the method
used is reported beside the figure.
"""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path
from types import TracebackType

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kb(field: str) -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _peak_resettable() -> bool:
    try:
        CLEAR_REFS.write_text("5")
        _status_kb("VmHWM")
    except (OSError, LookupError, ValueError):
        return False
    return True


class PeakMemory:
    """``with PeakMemory() as peak: …`` then ``peak.megabytes`` and ``peak.method``."""

    def __init__(self) -> None:
        self.megabytes = 0.0
        self.method = "rss" if _peak_resettable() else "tracemalloc"
        self._before_kb = 0

    def __enter__(self) -> PeakMemory:
        gc.collect()
        if self.method == "rss":
            self._before_kb = _status_kb("VmRSS")
            CLEAR_REFS.write_text("5")
        else:
            tracemalloc.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.method == "rss":
            self.megabytes = max(_status_kb("VmHWM") - self._before_kb, 0) / 1024
        else:
            self.megabytes = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
