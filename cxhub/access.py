"""The one access policy of CXHub: who may read and change what, for every page, API call,
export, report and analysis run.

Principals
    * **anonymous**: nothing but the sign-in page, the health and readiness checks
      (:func:`public`) and the API's schema.
    * **monitoring** (Prometheus): ``/metrics`` with the bearer token
      ``CXHUB_METRICS_TOKEN`` (:func:`metrics_token_required`); no one else, people included.
    * **no role**: a signed-in person in no CXHub group: nothing (403 everywhere).
    * **viewer** and **line manager**: the records of the departments they are members of
      (their touchpoints' responses, verbatims and tags, their alerts, actions, impact,
      KPI observations, dashboard comments) and every figure in *aggregate* across
      departments (the cross-department overview, organisation-wide scores and drivers).
      Viewers change nothing; line managers change what they own (see
      ``actions.permissions``).
    * **CX manager** and **administrator** (superuser): every department.
    * **source** (an API key): posts its own source's data; reads nothing.

Records are scoped by :func:`visible`, which looks each model up in :data:`RULES`: a
model without a rule cannot be read through the policy at all. Requests that name a
scope (``department``, ``journey``, ``touchpoint`` parameters) pass :func:`scope_restrict`,
which refuses a department the user may not see and, for records, narrows an open scope to
the user's own departments.

What a user may not see answers 404 (guessing ids reveals nothing); what a *role* may
never do answers 403 before any object is looked up, so a refusal does not say whether
the object exists. ``docs/security.md`` states the matrix; ``tests/cxhub/
test_permission_matrix.py`` checks it against every route.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from rest_framework import exceptions as drf_exceptions
from rest_framework import permissions
from rest_framework.request import Request

from feedback.roles import Role, user_roles

AnyUser = AbstractBaseUser | AnonymousUser
M = TypeVar("M", bound=Model)
View = TypeVar("View", bound=Callable[..., HttpResponseBase])

ROLE_NEEDED = "You need a CXHub role (CX manager, line manager or viewer) to see this."
SOURCE_READS = "An API key posts its source's data; it cannot read data."
CX_ONLY = "Only CX managers and administrators may do this."
VIEWERS_READ = "Viewers read; they change nothing."
MANAGERS_ONLY = (
    "Alerts go to the line managers of their department and to CX managers; viewers see none."
)
DEPARTMENT_REFUSED = "This department's data is shared with its members and CX managers."


class Kind(enum.StrEnum):
    ANONYMOUS = "anonymous"
    NO_ROLE = "no role"
    SOURCE = "source"
    VIEWER = "viewer"
    LINE_MANAGER = "line manager"
    CX_MANAGER = "CX manager"
    ADMIN = "administrator"


@dataclass(frozen=True)
class Access:
    """What one principal may see: its kind, its departments and (for a key) its source."""

    kind: Kind
    user_id: int | None = None
    department_ids: frozenset[int] = frozenset()
    source_id: int | None = None

    @property
    def has_role(self) -> bool:
        """A person who may read something (viewer and up)."""
        return self.kind in {Kind.VIEWER, Kind.LINE_MANAGER, Kind.CX_MANAGER, Kind.ADMIN}

    @property
    def sees_all(self) -> bool:
        """CX managers and administrators see every department."""
        return self.kind in {Kind.CX_MANAGER, Kind.ADMIN}

    @property
    def is_cx_manager(self) -> bool:
        return self.sees_all

    @property
    def is_line_manager(self) -> bool:
        return self.kind == Kind.LINE_MANAGER

    @property
    def is_source(self) -> bool:
        return self.kind == Kind.SOURCE

    def may_see_department(self, department_id: int | None) -> bool:
        """``None`` is the cross-department overview, which every role sees in aggregate."""
        if not self.has_role:
            return False
        if department_id is None or self.sees_all:
            return True
        return department_id in self.department_ids

    def may_see_departments(self, department_ids: Iterable[int]) -> bool:
        return all(self.may_see_department(d) for d in department_ids)


_CACHE_ATTRIBUTE = "_cxhub_access"


def access_for(user: AnyUser | Any) -> Access:
    """The access of ``user`` (a person, an API key's ``SourceClient`` or anonymous).

    Computed once per request and kept on the user object: two queries at most (the
    user's groups and departments).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return Access(Kind.ANONYMOUS)
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if isinstance(cached, Access):
        return cached
    source = getattr(user, "source", None)
    if source is not None and getattr(user, "pk", None) is None:
        access = Access(Kind.SOURCE, source_id=source.pk)
    else:
        access = _person_access(user)
    setattr(user, _CACHE_ATTRIBUTE, access)
    return access


def access_forget(user: AnyUser | Any) -> None:
    """Drop the cached access of ``user`` (at the start of a request, and after its groups
    or departments changed)."""
    for attribute in (_CACHE_ATTRIBUTE, "_cxhub_roles"):
        if attribute in getattr(user, "__dict__", {}):
            delattr(user, attribute)


def _person_access(user: AnyUser) -> Access:
    from feedback.models import Department

    user_id = cast(int, user.pk)
    if getattr(user, "is_superuser", False):
        kind = Kind.ADMIN
    else:
        roles = user_roles(user)
        if Role.CX_MANAGER in roles:
            kind = Kind.CX_MANAGER
        elif Role.LINE_MANAGER in roles:
            kind = Kind.LINE_MANAGER
        elif Role.VIEWER in roles:
            kind = Kind.VIEWER
        else:
            return Access(Kind.NO_ROLE, user_id=user_id)
    departments = frozenset(
        Department.members.through.objects.filter(user_id=user_id).values_list(
            "department_id", flat=True
        )
    )
    return Access(kind, user_id=user_id, department_ids=departments)


# -- records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """How the records of one model are scoped.

    ``department``: the lookup to the record's department id; records whose department is
    ``None`` are organisation-wide and visible to every role when ``null_is_shared``.
    ``shared``: a boolean field that makes a record visible to every role.
    ``own``: user-id fields that make a record visible to that user whatever its department.
    ``roles``: the kinds that may read at all (default: every role).
    ``user``: the record belongs to one user (notifications); only they read it.
    ``departments``: a many-to-many of departments the record was computed from (analysis
    runs); visible when every one of them is the user's. ``every_department``: a boolean
    that marks records holding rows of every department (only CX managers read them).
    """

    department: str | None = None
    null_is_shared: bool = False
    shared: str | None = None
    own: tuple[str, ...] = ()
    roles: frozenset[Kind] | None = None
    user: str | None = None
    departments: str | None = None
    every_department: str | None = None


ROLES_CX = frozenset({Kind.CX_MANAGER, Kind.ADMIN})
ROLES_MANAGERS = frozenset({Kind.CX_MANAGER, Kind.ADMIN, Kind.LINE_MANAGER})

RULES: dict[str, Rule] = {
    "feedback.Department": Rule(department="id"),
    "feedback.Touchpoint": Rule(department="department_id"),
    "feedback.Response": Rule(department="touchpoint__department_id"),
    "feedback.Customer": Rule(roles=ROLES_CX),
    "feedback.Source": Rule(roles=ROLES_CX),
    "actions.Action": Rule(
        department="department_id", shared="cross_department", own=("owner_id", "created_by_id")
    ),
    "actions.ActionUpdate": Rule(
        department="action__department_id",
        shared="action__cross_department",
        own=("action__owner_id", "action__created_by_id"),
    ),
    "actions.Alert": Rule(department="department_id", roles=ROLES_MANAGERS),
    "actions.Notification": Rule(user="recipient_id"),
    "actions.EvidenceDraft": Rule(user="created_by_id"),
    "analytics.Kpi": Rule(),
    "analytics.KpiObservation": Rule(department="department_id", null_is_shared=True),
    "analytics.ResponseAnalysis": Rule(department="response__touchpoint__department_id"),
    "analytics.TopicMention": Rule(department="response__touchpoint__department_id"),
    "analytics.TagCorrection": Rule(roles=ROLES_CX),
    "analytics.Topic": Rule(),
    "analytics.ThemeProposal": Rule(roles=ROLES_CX),
    "analytics.ImpactEstimate": Rule(
        department="action__department_id",
        shared="action__cross_department",
        own=("action__owner_id", "action__created_by_id"),
    ),
    "analytics.AnalysisRun": Rule(
        departments="scope_departments", every_department="scope_every_department"
    ),
    "dashboards.DashboardComment": Rule(department="department_id", null_is_shared=True),
}


def visible(user: AnyUser | Access, queryset: QuerySet[M]) -> QuerySet[M]:
    """The part of ``queryset`` that ``user`` may read, by its model's rule in :data:`RULES`."""
    access = user if isinstance(user, Access) else access_for(user)
    label = queryset.model._meta.label
    try:
        rule = RULES[label]
    except KeyError:
        raise LookupError(f"No access rule for {label}; add one to cxhub.access.RULES.") from None
    if not access.has_role:
        return queryset.none()
    if rule.user is not None:
        return queryset.filter(**{rule.user: access.user_id})
    if rule.roles is not None and access.kind not in rule.roles:
        return queryset.none()
    if access.sees_all:
        return queryset
    if rule.departments is not None:
        from feedback.models import Department

        others = Department.objects.exclude(id__in=sorted(access.department_ids))
        queryset = queryset.exclude(**{f"{rule.departments}__in": others})
        if rule.every_department:
            queryset = queryset.exclude(**{rule.every_department: True})
        return queryset
    if rule.department is None:
        return queryset
    condition = Q(**{f"{rule.department}__in": sorted(access.department_ids)})
    if rule.null_is_shared:
        condition |= Q(**{f"{rule.department}__isnull": True})
    if rule.shared:
        condition |= Q(**{rule.shared: True})
    for field in rule.own:
        condition |= Q(**{field: access.user_id})
    return queryset.filter(condition)


def may_read(user: AnyUser | Access, model_label: str) -> bool:
    """Whether ``user`` may read any record of the model (its role allows it at all)."""
    access = user if isinstance(user, Access) else access_for(user)
    rule = RULES[model_label]
    if not access.has_role:
        return False
    return rule.roles is None or access.kind in rule.roles


# -- scopes named in a request ---------------------------------------------------------

SCOPE_DEPARTMENT_PARAMETERS = ("department", "journey", "touchpoint")


def scope_department_ids(scope: Mapping[str, Any]) -> set[int] | None:
    """The departments a cleaned response scope names, or ``None`` when it names none.

    ``department`` and ``touchpoint`` name departments directly; a ``journey`` names the
    departments of its touchpoints.
    """
    from feedback.models import Department, Touchpoint

    named: set[int] | None = None

    def narrow(ids: Iterable[int]) -> None:
        nonlocal named
        ids = set(ids)
        named = ids if named is None else named & ids

    if scope.get("department"):
        narrow(Department.objects.filter(slug__in=scope["department"]).values_list("id", flat=True))
    if scope.get("touchpoint"):
        narrow(
            Touchpoint.objects.filter(slug__in=scope["touchpoint"]).values_list(
                "department_id", flat=True
            )
        )
    if scope.get("journey"):
        narrow(
            Touchpoint.objects.filter(journey__slug__in=scope["journey"]).values_list(
                "department_id", flat=True
            )
        )
    return named


def scope_restrict(
    user: AnyUser | Access, scope: Mapping[str, Any], *, records: bool
) -> dict[str, Any]:
    """``scope`` checked against what ``user`` may see.

    A scope naming a department the user may not see is refused (403 with a message). For
    ``records`` (responses, verbatims, tags, exports of rows) a scope that names no
    department is narrowed to the user's own departments; aggregates across departments
    stay open to every role.
    """
    access = user if isinstance(user, Access) else access_for(user)
    require_role(access)
    scope = dict(scope)
    if access.sees_all:
        return scope
    named = scope_department_ids(scope)
    if named is not None and not named <= access.department_ids:
        raise PermissionDenied(DEPARTMENT_REFUSED)
    if records and named is None:
        from feedback.models import Department

        own = Department.objects.filter(id__in=sorted(access.department_ids))
        scope["department"] = sorted(own.values_list("slug", flat=True)) or ["-"]
    return scope


# -- gates -----------------------------------------------------------------------------


def require_role(user: AnyUser | Access) -> Access:
    """The access of a person with a CXHub role; anyone else is refused."""
    access = user if isinstance(user, Access) else access_for(user)
    if access.kind == Kind.ANONYMOUS:
        raise drf_exceptions.NotAuthenticated()
    if access.kind == Kind.SOURCE:
        raise PermissionDenied(SOURCE_READS)
    if not access.has_role:
        raise PermissionDenied(ROLE_NEEDED)
    return access


def require_cx_manager(user: AnyUser | Access, message: str = CX_ONLY) -> Access:
    access = require_role(user)
    if not access.is_cx_manager:
        raise PermissionDenied(message)
    return access


def require_writer(user: AnyUser | Access) -> Access:
    """A role that may change something (line managers and up); viewers are refused
    before any object is looked up, so the refusal says nothing about the object."""
    access = require_role(user)
    if access.kind == Kind.VIEWER:
        raise PermissionDenied(VIEWERS_READ)
    return access


def require_department(user: AnyUser | Access, department_id: int | None) -> Access:
    access = require_role(user)
    if not access.may_see_department(department_id):
        raise PermissionDenied(DEPARTMENT_REFUSED)
    return access


def page(view: View) -> View:
    """Page gate: anonymous visitors go to the sign-in page; people without a role get 403.

    The view itself then asks the finer questions (a department, an object, a write).
    """

    @wraps(view)
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        access_forget(request.user)  # a change of groups counts from the next request on
        access = access_for(request.user)
        if access.kind == Kind.ANONYMOUS:
            return redirect_to_login(request.get_full_path())
        if not access.has_role:
            raise PermissionDenied(ROLE_NEEDED if access.kind == Kind.NO_ROLE else SOURCE_READS)
        return view(request, *args, **kwargs)

    gated.cxhub_access = "page"  # type: ignore[attr-defined]
    return cast(View, gated)


def public(view: View) -> View:
    """Gate of the routes anyone may call, signed in or not (health and readiness checks for
    load balancers and orchestrators). They read no record and say nothing about one."""
    view.cxhub_access = "public"  # type: ignore[attr-defined]
    return view


METRICS_REFUSED = "A valid metrics token is needed: Authorization: Bearer <CXHUB_METRICS_TOKEN>."


def metrics_token_required(view: View) -> View:
    """Gate of ``/metrics``: only a caller sending ``Authorization: Bearer`` with the token
    ``CXHUB_METRICS_TOKEN``. No token configured: 404, the route is off. A missing or wrong
    token: 401 with ``WWW-Authenticate: Bearer``; a session or API key does not count.
    """

    @wraps(view)
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        expected = str(settings.CXHUB_METRICS_TOKEN or "")
        if not expected:
            raise Http404("Metrics are off: CXHUB_METRICS_TOKEN is not set.")
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), expected.encode()
        ):
            refused = HttpResponse(METRICS_REFUSED + "\n", status=401, content_type="text/plain")
            refused["WWW-Authenticate"] = 'Bearer realm="cxhub-metrics"'
            return refused
        return view(request, *args, **kwargs)

    gated.cxhub_access = "metrics token"  # type: ignore[attr-defined]
    return cast(View, gated)


class Reads(enum.StrEnum):
    ROLE = "role"  # any person with a role
    MANAGERS = "managers"  # line managers and CX managers (alerts)
    CX_MANAGER = "cx_manager"
    NONE = "none"  # no reads (write-only endpoints)


class Writes(enum.StrEnum):
    NONE = "none"
    ROLE = "role"  # any role; the view checks the object (e.g. the owner)
    MANAGERS = "managers"  # line managers and CX managers; the view checks the object
    CX_MANAGER = "cx_manager"
    SOURCE_OR_CX_MANAGER = "source_or_cx_manager"


class Policy(permissions.BasePermission):
    """DRF gate for every API view: the view declares ``access_reads`` and ``access_writes``.

    Anonymous calls answer 401; API keys may only write where ``access_writes`` lets
    sources in; a person without a role gets 403; reads need a role (or a CX manager).
    Object-level questions (a department, an owner) stay in the view, through
    :func:`visible` and the ``require_*`` gates above.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        access_forget(request.user)  # a change of groups counts from the next request on
        access = access_for(request.user)
        reads = Reads(getattr(view, "access_reads", Reads.ROLE))
        writes = Writes(getattr(view, "access_writes", Writes.CX_MANAGER))
        writes = Writes(getattr(view, "access_writes_by_method", {}).get(request.method, writes))
        safe = request.method in permissions.SAFE_METHODS
        if access.kind == Kind.ANONYMOUS:
            raise drf_exceptions.NotAuthenticated()
        if access.is_source:
            if not safe and writes == Writes.SOURCE_OR_CX_MANAGER:
                return True
            raise drf_exceptions.PermissionDenied(
                SOURCE_READS if safe else "An API key may not do this."
            )
        if not access.has_role:
            raise drf_exceptions.PermissionDenied(ROLE_NEEDED)
        if safe:
            if reads == Reads.NONE:
                raise drf_exceptions.MethodNotAllowed(str(request.method))
            if reads == Reads.CX_MANAGER and not access.is_cx_manager:
                raise drf_exceptions.PermissionDenied(CX_ONLY)
            if reads == Reads.MANAGERS and not (access.is_cx_manager or access.is_line_manager):
                raise drf_exceptions.PermissionDenied(MANAGERS_ONLY)
            return True
        if writes == Writes.NONE:
            raise drf_exceptions.MethodNotAllowed(str(request.method))
        if writes == Writes.ROLE:
            return True
        if writes == Writes.MANAGERS and (access.is_line_manager or access.is_cx_manager):
            return True
        if writes in {Writes.CX_MANAGER, Writes.SOURCE_OR_CX_MANAGER} and access.is_cx_manager:
            return True
        message = (
            "Only CX managers (or a source's API key) may post data."
            if writes == Writes.SOURCE_OR_CX_MANAGER
            else CX_ONLY
            if writes == Writes.CX_MANAGER
            else "Only line managers and CX managers may do this."
        )
        if access.kind == Kind.VIEWER:
            message = f"Viewers change nothing. {message}"
        raise drf_exceptions.PermissionDenied(message)


def request_scope(
    user: AnyUser | Access, data: Mapping[str, Any], *, records: bool
) -> dict[str, Any]:
    """The response scope named by request parameters ``data`` (validated by
    ``feedback.filters.response_scope_clean``), checked by :func:`scope_restrict`."""
    from feedback.filters import response_scope_clean

    require_role(user)
    return scope_restrict(user, response_scope_clean(data), records=records)
