"""factory_boy factories for every feedback model; other apps' tests import these."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from feedback.models import (
    Attribute,
    Channel,
    Customer,
    Department,
    Journey,
    Response,
    Source,
    SourceAPIKey,
    Touchpoint,
)
from feedback.roles import Role
from feedback.services import response_day, response_days_changed
from feedback.validation import content_hash

User = get_user_model()


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        if create and extracted:
            for name in extracted:
                group, _ = Group.objects.get_or_create(name=name)
                self.groups.add(group)


def cx_manager(**kwargs: Any) -> Any:
    return UserFactory(roles=[Role.CX_MANAGER], **kwargs)


def line_manager(**kwargs: Any) -> Any:
    return UserFactory(roles=[Role.LINE_MANAGER], **kwargs)


def viewer(**kwargs: Any) -> Any:
    return UserFactory(roles=[Role.VIEWER], **kwargs)


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Department {n}")
    slug = factory.Sequence(lambda n: f"department-{n}")


class JourneyFactory(DjangoModelFactory):
    class Meta:
        model = Journey
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Journey {n}")
    slug = factory.Sequence(lambda n: f"journey-{n}")
    position = factory.Sequence(lambda n: n)


class TouchpointFactory(DjangoModelFactory):
    class Meta:
        model = Touchpoint
        django_get_or_create = ("slug",)

    journey = factory.SubFactory(JourneyFactory)
    step = "Get help"
    step_position = factory.Sequence(lambda n: n)
    name = factory.Sequence(lambda n: f"Touchpoint {n}")
    slug = factory.Sequence(lambda n: f"touchpoint-{n}")
    department = factory.SubFactory(DepartmentFactory)


class SourceFactory(DjangoModelFactory):
    class Meta:
        model = Source
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"source-{n}")
    kind = Source.Kind.SURVEY


class SourceAPIKeyFactory(DjangoModelFactory):
    """Creates a key; the plain key is on the instance as ``plain_key`` (shown once)."""

    class Meta:
        model = SourceAPIKey

    source = factory.SubFactory(SourceFactory)
    name = factory.LazyAttribute(lambda key: f"{key.source.name} key")

    @classmethod
    def _create(cls, model_class: type[SourceAPIKey], *args: Any, **kwargs: Any) -> SourceAPIKey:
        api_key, plain = model_class.objects.create_key(**kwargs)
        api_key.plain_key = plain  # type: ignore[attr-defined]
        return api_key


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("external_id",)

    external_id = factory.Sequence(lambda n: f"C-{n:06d}")
    segment = factory.Iterator(["consumer", "smb", "enterprise"])
    region = factory.Iterator(["north", "south", "east", "west"])
    plan = factory.Iterator(["basic", "standard", "premium"])


class AttributeFactory(DjangoModelFactory):
    class Meta:
        model = Attribute
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"driver_{n}")
    label = factory.LazyAttribute(lambda attribute: attribute.slug.replace("_", " ").capitalize())
    scale_min = 1
    scale_max = 5


class ResponseFactory(DjangoModelFactory):
    """A stored response whose content hash matches its content, as ingestion would store it."""

    class Meta:
        model = Response

    source = factory.SubFactory(SourceFactory)
    external_id = factory.Sequence(lambda n: f"resp-{n:07d}")
    submitted_at = factory.Sequence(
        lambda n: dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(hours=n)
    )
    customer = None
    channel = Channel.WEB
    touchpoint = None
    nps = factory.Iterator([10, 9, 8, 7, 6, 3, 0])
    csat = None
    ces = None
    ratings: dict[str, int] = factory.LazyFunction(dict)
    comment = ""
    attributes: dict[str, Any] = factory.LazyFunction(dict)
    content_hash = factory.LazyAttribute(
        lambda r: content_hash(
            submitted_at=r.submitted_at,
            customer_external_id=r.customer.external_id if r.customer else None,
            channel=r.channel,
            touchpoint_slug=r.touchpoint.slug if r.touchpoint else None,
            nps=r.nps,
            csat=r.csat,
            ces=r.ces,
            ratings=dict(sorted(r.ratings.items())),
            comment=r.comment,
            attributes=dict(sorted(r.attributes.items())),
        )
    )

    @classmethod
    def _create(cls, model_class: type[Response], *args: Any, **kwargs: Any) -> Response:
        """Stored as every write path stores a response: its day is marked changed, so the
        roll-ups recount it (``feedback.services.response_days_changed``)."""
        response: Response = super()._create(model_class, *args, **kwargs)
        response_days_changed(days=[response_day(response.submitted_at)])
        return response


def member_everywhere(user: Any) -> Any:
    """``user`` made a member of every department that exists now (a reader whose
    departments hold all the test's data; the access policy scopes records to them)."""
    for department in Department.objects.all():
        department.members.add(user)
    return user
