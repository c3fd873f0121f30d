"""Post-ingest processing hooks, and the listeners of changed response days.

``feedback`` imports no other app, yet stored responses must be analysed (tagged, checked
for alerts) by apps that sit above it. Those apps register a processor here in their
``AppConfig.ready``; ``feedback.tasks.responses_process_task`` runs every registered
processor on a batch of response ids and then marks the batch processed. Processors must
be idempotent: the sweep may hand them the same ids again after a worker died.

Roll-ups kept above ``feedback`` learn which days to recompute from the day markers every
write leaves (``feedback.services.response_days_changed``); a listener registered here is
told after such a write commits, so the refresh can be queued at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

ResponseProcessor = Callable[[Sequence[int]], None]

_processors: dict[str, ResponseProcessor] = {}


def register_response_processor(name: str, processor: ResponseProcessor) -> None:
    """Register (or replace) the processor called ``name``; order of registration is kept."""
    _processors[name] = processor


def response_processors() -> list[tuple[str, ResponseProcessor]]:
    return list(_processors.items())


# --- Changed days ---------------------------------------------------------------------------

DaysChangedListener = Callable[[], None]

_days_changed_listeners: dict[str, DaysChangedListener] = {}


def register_days_changed_listener(name: str, listener: DaysChangedListener) -> None:
    """Register (or replace) a listener called after the commit of every transaction that
    marked response days changed (``feedback.services.response_days_changed``): analytics
    queues its roll-up refresh with it. A listener must be cheap and must not raise."""
    _days_changed_listeners[name] = listener


def days_changed_listeners() -> list[tuple[str, DaysChangedListener]]:
    return list(_days_changed_listeners.items())
