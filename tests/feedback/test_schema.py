"""The OpenAPI schema describes the feedback API without warnings; the docs need no CDN."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

FEEDBACK_PATHS = [
    "/api/v1/feedback/",
    "/api/v1/feedback/bulk/",
    "/api/v1/feedback/{id}/",
    "/api/v1/customers/",
    "/api/v1/customers/bulk/",
    "/api/v1/customers/{id}/",
]


def _feedback_schema() -> dict[str, Any]:
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include("feedback.api_urls"))])
    schema = generator.get_schema(request=None, public=True)
    return schema


def test_feedback_schema_is_valid_and_generates_without_warnings() -> None:
    """Every feedback endpoint is described, the schema validates, and nothing was guessed."""
    schema = _feedback_schema()
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    validate_schema(schema)
    assert set(FEEDBACK_PATHS) <= set(schema["paths"])


def test_feedback_schema_documents_fields_and_examples() -> None:
    """The single post documents every input field with an example, and the status codes."""
    schema = _feedback_schema()
    post = schema["paths"]["/api/v1/feedback/"]["post"]
    assert {"201", "200", "400", "401", "403", "409"} <= set(post["responses"])
    assert post["requestBody"]["content"]["application/json"]["examples"]
    request_schema = schema["components"]["schemas"]["ResponseInputRequest"]
    assert {
        "external_id",
        "submitted_at",
        "nps",
        "csat",
        "ces",
        "ratings",
        "comment",
        "channel",
        "touchpoint",
        "customer_id",
        "attributes",
    } <= set(request_schema["properties"])
    bulk = schema["paths"]["/api/v1/feedback/bulk/"]["post"]
    assert {"application/json", "text/csv"} <= set(bulk["requestBody"]["content"])
    listing = schema["paths"]["/api/v1/feedback/"]["get"]
    parameters = {parameter["name"] for parameter in listing["parameters"]}
    assert {
        "cursor",
        "touchpoint",
        "channel",
        "nps_category",
        "q",
        "topic",
        "sentiment",
        "date_from",
        "date_to",
        "department",
        "journey",
        "source",
        "segment",
        "region",
        "plan",
    } <= parameters
    assert "SourceApiKey" in schema["components"]["securitySchemes"]


@pytest.mark.django_db
def test_schema_endpoint_serves_the_feedback_paths(viewer_client: APIClient) -> None:
    """/api/schema/ answers and includes the feedback API."""
    answer = viewer_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    body = answer.json() if answer["Content-Type"].startswith("application/json") else None
    if body is None:
        import yaml

        body = yaml.safe_load(answer.content)
    assert set(FEEDBACK_PATHS) <= set(body["paths"])


@pytest.mark.django_db
def test_api_docs_load_their_assets_locally(viewer_client: APIClient) -> None:
    """/api/docs/ references only local static files, no CDN."""
    answer = viewer_client.get("/api/docs/")
    assert answer.status_code == 200
    html = answer.content.decode()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert urls, html[:500]
    assert not [url for url in urls if url.startswith(("http://", "https://", "//"))], urls
    assert "cdn" not in html.lower()
