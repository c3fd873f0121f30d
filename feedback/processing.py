"""Post-ingest processing hooks.

``feedback`` imports no other app, yet stored responses must be analysed (tagged, checked
for alerts) by apps that sit above it. Those apps register a processor here in their
``AppConfig.ready``; ``feedback.tasks.responses_process_task`` runs every registered
processor on a batch of response ids and then marks the batch processed. Processors must
be idempotent: the sweep may hand them the same ids again after a worker died.
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
