"""The dashboards' scans read from a replica of the database when one is configured.

With ``DATABASE_REPLICA_URL`` set, ``cxhub.settings`` adds the ``replica`` database and this
router (docs/scaling.md). A read goes to the replica only when both hold:

* it happens inside :func:`replica_reads`, which :class:`ReplicaReadsMiddleware` opens for
  ``GET`` and ``HEAD`` requests to the dashboards' pages and CSV exports and to the topic
  pages (while a streamed export is sent, too);
* its model is one that ingest and processing feed (``REPLICA_MODELS``): the tables those
  pages scan.

Every other read, and every write, goes to ``default``: sessions, sign-in, people's actions
and comments are read where they were just written, and nothing can be written to the replica.
Migrations never run on it (it is a physical copy of the primary). Without a replica the
router is not installed and the middleware does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
# Models whose reads may come from the replica: the rows ingest and processing write, which
# the dashboards scan. (Roll-up tables belong here too.)
REPLICA_MODELS = frozenset(
    {
        "feedback.response",
        "feedback.customer",
        "analytics.responseanalysis",
        "analytics.topicmention",
    }
)
# The pages and exports whose reads may come from the replica: a URL namespace, or a URL name.
REPLICA_NAMESPACES = frozenset({"dashboards"})
REPLICA_URL_NAMES = frozenset(
    {"analytics-topics-page", "analytics-themes-page", "analytics-topic-verbatims-page"}
)

_replica_reads: ContextVar[bool] = ContextVar("cxhub_replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_reads_active() -> bool:
    """Whether reads of ``REPLICA_MODELS`` go to the replica now."""
    return _replica_reads.get() and replica_configured()


@contextmanager
def replica_reads() -> Iterator[None]:
    """Within this block, reads of ``REPLICA_MODELS`` go to the replica (when there is one)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


class ReplicaRouter:
    """``DATABASE_ROUTERS`` entry: see the module's docstring."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        if replica_reads_active() and model._meta.label_lower in REPLICA_MODELS:
            return REPLICA
        # Explicitly the primary: Django would otherwise read related rows of an object
        # loaded from the replica from the replica again, outside the block too.
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same data on both

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA


def _reads_from_replica(request: HttpRequest) -> bool:
    match = request.resolver_match
    if request.method not in ("GET", "HEAD") or match is None:
        return False
    return match.namespace in REPLICA_NAMESPACES or match.url_name in REPLICA_URL_NAMES


def _streamed_with_replica_reads(chunks: Iterable[Any]) -> Iterator[Any]:
    with replica_reads():
        yield from chunks


class ReplicaReadsMiddleware:
    """Opens :func:`replica_reads` for the views of the dashboards' pages and exports.

    The block opens once the URL is resolved (``process_view``) and closes when the response
    has passed back through here, templates rendered; a streamed export reads inside it again
    while it is sent.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        finally:
            token = request.__dict__.pop("_cxhub_replica_reads", None)
            if token is not None:
                _replica_reads.reset(token)
        if token is not None and getattr(response, "streaming", False):
            response.streaming_content = _streamed_with_replica_reads(  # type: ignore[attr-defined]
                response.streaming_content  # type: ignore[attr-defined]
            )
        return response

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., HttpResponse],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        if replica_configured() and _reads_from_replica(request):
            request.__dict__["_cxhub_replica_reads"] = _replica_reads.set(True)
