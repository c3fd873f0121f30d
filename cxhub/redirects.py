"""Where a page may send the user back to: the one check behind every ``next`` redirect.

Forms carry a ``next`` field so that an action taken on one page returns to it. The value
comes from the browser, so it is followed only when it stays on this site: a path, or an
absolute URL on the request's own host with an http(s) scheme (https only when the request
was secure). Anything else (``//evil.example``, ``https://evil``, ``javascript:``) falls
back to the page's own default.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

NEXT_FIELD = "next"


def safe_next_url(request: HttpRequest, fallback: str, *, field: str = NEXT_FIELD) -> str:
    """The request's ``next`` (form field first, then query string) if it is on this site."""
    target = request.POST.get(field) or request.GET.get(field) or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def redirect_back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """A redirect to the safe ``next`` of the request, else to ``fallback``."""
    return HttpResponseRedirect(safe_next_url(request, fallback))
