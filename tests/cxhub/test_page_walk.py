"""Every page a user can reach, walked as each demo role on ``seed_demo`` data.

Hand-made fixtures missed a 500 on a main-menu page; this walk is the safety net. It seeds the
demo organisation (reduced to a few thousand responses, analyses included), then, as every
demo login, follows every same-site link and every htmx ``hx-get`` from ``/`` (GET only, a
few URLs per route and query shape). No page may answer 5xx, and no link shown to a user
may answer 4xx or send them to the login page: a link a user cannot follow should not be
shown to them.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.test import Client, override_settings
from django.urls import Resolver404, path, resolve

from demo import generator
from demo.services import demo_seed

pytestmark = pytest.mark.django_db

RESPONSES = 3_000
PER_SHAPE = 2  # URLs fetched per (route, query keys) shape
MAX_PAGES = 400  # per role: a bound, not an expectation
LOGIN_PATH = "/accounts/login/"
# Fetched when linked, never parsed for further links: Django's admin and the API browser
# have their own link structure, and a CSV is not a page.
NOT_FOLLOWED = ("/admin/", "/api/", "/export/", "/static/")


class _LinkParser(HTMLParser):
    """Collects ``<a href>`` and every element's ``hx-get`` on a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append((str(values["href"]), False))
        if values.get("hx-get"):
            self.links.append((str(values["hx-get"]), True))


def page_links(html: str) -> list[tuple[str, bool]]:
    parser = _LinkParser()
    parser.feed(html)
    return parser.links


def same_site(url: str, current: str) -> str | None:
    """The path and query of ``url`` if it stays on this site, else None."""
    url = urldefrag(url.strip())[0]
    if not url or url.startswith(("mailto:", "tel:", "javascript:", "data:")):
        return None
    parts = urlsplit(url)
    if parts.netloc not in {"testserver", ""} or parts.scheme not in {"http", "https", ""}:
        return None
    path = parts.path
    if not path:
        path = urlsplit(current).path
    elif not path.startswith("/"):
        base = urlsplit(current).path.rsplit("/", 1)[0]
        path = f"{base}/{path}"
    return f"{path}?{parts.query}" if parts.query else path


def url_shape(url: str) -> str:
    """The route pattern plus the query parameter names: URLs of one shape are one page."""
    parts = urlsplit(url)
    try:
        route = resolve(parts.path).route
    except Resolver404:
        route = parts.path
    keys = sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return f"{route}?{'&'.join(keys)}"


@dataclass(frozen=True)
class Problem:
    user: str
    url: str
    status: int
    linked_from: str
    what: str

    def __str__(self) -> str:
        return (
            f"{self.user}: {self.url} -> {self.status} {self.what} (linked from {self.linked_from})"
        )


def walk(client: Client, username: str) -> tuple[list[Problem], int]:
    """Breadth-first over the links ``username`` is shown; returns problems and pages fetched."""
    queue: deque[tuple[str, str, bool]] = deque([("/", "(start)", False)])
    seen: set[str] = set()
    shapes: Counter[str] = Counter()
    problems: list[Problem] = []
    fetched = 0
    while queue and fetched < MAX_PAGES:
        url, linked_from, htmx = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        shape = url_shape(url)
        if shapes[shape] >= PER_SHAPE:
            continue
        shapes[shape] += 1
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.get(url, follow=True, headers=headers)
        fetched += 1
        status = response.status_code
        if any(urlsplit(hop).path == LOGIN_PATH for hop, _ in response.redirect_chain):
            problems.append(Problem(username, url, status, linked_from, "sends to the login page"))
            continue
        if status >= 500:
            problems.append(Problem(username, url, status, linked_from, "server error"))
            continue
        if status >= 400:
            problems.append(
                Problem(username, url, status, linked_from, "a link the user cannot follow")
            )
            continue
        if url.startswith(NOT_FOLLOWED) or "text/html" not in response.get("Content-Type", ""):
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)  # a stream that fails mid-way is a 500 too
            continue
        final_url = response.redirect_chain[-1][0] if response.redirect_chain else url
        for href, is_htmx in page_links(response.content.decode()):
            target = same_site(href, final_url)
            if target is not None and target not in seen:
                queue.append((target, url, is_htmx))
    return problems, fetched


@pytest.fixture
def demo_site() -> Iterator[list[str]]:
    """The demo organisation with its analyses, and the demo logins to walk it as."""
    cache.clear()
    demo_seed(responses=RESPONSES)
    yield [user["username"] for user in generator.USERS]
    cache.clear()


def test_every_page_answers_every_role_on_demo_data(demo_site: list[str]) -> None:
    """No page answers 5xx, and no link shown to a role answers 4xx or asks to log in."""
    user_model = get_user_model()
    problems: list[Problem] = []
    pages: dict[str, int] = {}
    for username in demo_site:
        client = Client(raise_request_exception=False)
        client.force_login(user_model.objects.get(username=username))
        found, fetched = walk(client, username)
        problems += found
        pages[username] = fetched

    assert not problems, "\n".join(str(problem) for problem in problems)
    # The walk really went somewhere: every role reached more than the start page.
    assert all(count > 5 for count in pages.values()), pages


def _start(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        '<a href="/broken/">Broken</a> <a href="/gone/">Gone</a> <div hx-get="/ok/"></div>'
        ' <a href="https://elsewhere.example/">Out</a> <a href="mailto:x@example.com">Mail</a>',
        content_type="text/html",
    )


def _broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("broken on purpose")


def _ok(request: HttpRequest) -> HttpResponse:
    assert request.headers.get("HX-Request") == "true"
    return HttpResponse("<p>partial</p>", content_type="text/html")


def _login_wall(request: HttpRequest) -> HttpResponse:
    return redirect(f"{LOGIN_PATH}?next=/gone/")


urlpatterns = [
    path("", _start),
    path("broken/", _broken),
    path("gone/", _login_wall),
    path("ok/", _ok),
    path("accounts/login/", lambda request: HttpResponse("login")),
]


@override_settings(ROOT_URLCONF=__name__)
def test_walk_reports_broken_pages_and_login_walls() -> None:
    """A 500 behind a link and a link that asks to log in are reported with their referrer."""
    client = Client(raise_request_exception=False)

    problems, fetched = walk(client, "someone")

    assert fetched == 4  # start, broken, gone, the htmx partial; never the external links
    assert {(p.url, p.status, p.what, p.linked_from) for p in problems} == {
        ("/broken/", 500, "server error", "/"),
        ("/gone/", 200, "sends to the login page", "/"),
    }
