"""Hostile input stops at the door: one check of every body, field and query parameter.

Three things reach views only through here:

* **JSON bodies** are parsed by :class:`StrictJSONParser` (every DRF view's parser): the body
  must be UTF-8, at most ``CXHUB["JSON_MAX_DEPTH"]`` levels deep (Python's parser would
  otherwise raise ``RecursionError`` on a 2 KB body), with no NaN/Infinity, and no string or
  key holding U+0000 or a lone surrogate (PostgreSQL cannot store either; the JSON renderer
  cannot even write a lone surrogate back). The items of a bulk array are the exception:
  their validators (which use :func:`text_problem`) reject such an item alone and store the
  rest.
* **Query parameters and form fields** of every request, page or API, are checked by
  :class:`InputGuardMiddleware` before any view runs: undecodable bytes, NUL characters and
  lone surrogates are a 400 naming the parameter (JSON for ``/api/``, a page otherwise).
* :func:`text_problem` is the one test of "can this text be stored", used by the two above and
  by the CSV and bulk validators.

Each refusal names the field (``items[3].comment``, ``?department``) and what is wrong with it.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

# Not imported from cxhub.errors: DRF imports this module while cxhub.errors imports DRF.
NON_FIELD = "non_field_errors"


DEFAULT_MAX_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In a strictly decoded body, NUL and lone surrogates can only arrive as escapes; without one
# of these the string check is skipped (the depth check still runs).
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def text_problem(text: str) -> str | None:
    """What makes ``text`` unstorable, as the end of a sentence, or None when it is fine."""
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "must not contain NUL characters (U+0000)."
    return (
        "must be valid text: it holds a lone surrogate (an unpaired \\uD800–\\uDFFF escape "
        "or bytes that are not UTF-8)."
    )


def printable(value: str, *, limit: int = 60) -> str:
    """``value`` safe to echo in a message: NUL and lone surrogates escaped, length bounded."""
    text = value.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def max_depth() -> int:
    return int(getattr(settings, "CXHUB", {}).get("JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def _child_path(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    name = printable(str(key))
    return f"{path}.{name}" if path else name


def json_problem(data: Any, *, depth_limit: int, check_text: bool = True) -> tuple[str, str] | None:
    """The first (field path, message) that makes parsed JSON unacceptable, or None.

    Iterative, so a deep document cannot exhaust the stack here either.
    """
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, dict | list):
            if depth > depth_limit:
                return (
                    NON_FIELD,
                    f"The JSON body is nested more than {depth_limit} levels deep.",
                )
            items: Iterable[tuple[object, Any]] = (
                value.items() if isinstance(value, dict) else enumerate(value)
            )
            for key, item in items:
                child = _child_path(path, key)
                if check_text and isinstance(key, str) and (problem := text_problem(key)):
                    return (child, f"The field name {problem}")
                if isinstance(item, dict | list) or (check_text and isinstance(item, str)):
                    stack.append((item, depth + 1, child))
        elif isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return (path or NON_FIELD, f"This value {problem}")
    return None


def json_deeper_than(data: Any, depth_limit: int) -> bool:
    """Whether parsed JSON nests containers more than ``depth_limit`` levels deep.

    The same test as :func:`json_problem`'s depth check, without building a path for every
    value: a 10,000-item bulk body is measured in milliseconds instead of most of a second.
    It goes level by level over containers only; parsed JSON holds plain dicts and lists.
    """
    level = [data] if type(data) is dict or type(data) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > depth_limit:
            return True
        deeper: list[Any] = []
        for value in level:
            deeper.extend(
                [
                    child
                    for child in (value.values() if type(value) is dict else value)
                    if type(child) is dict or type(child) is list
                ]
            )
        level = deeper
    return False


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, refusing what would otherwise become a 500 further in."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            text = codecs.decode(raw, "utf-8-sig") if isinstance(raw, bytes) else str(raw)
        except UnicodeDecodeError as error:
            raise ParseError(
                f"The body is not valid UTF-8 (byte {error.start:,} cannot be decoded)."
            ) from None
        depth_limit = max_depth()
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise ParseError(
                f"The JSON body is nested more than {depth_limit} levels deep."
            ) from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        # Brackets bound the depth: a body with few of them needs no walk for depth.
        deep = text.count("[") + text.count("{") > depth_limit
        # A top-level array is a bulk of items: each item's validator reports its own text
        # (so one bad item does not cost the valid ones); only the depth is checked here.
        suspect = _SUSPECT_ESCAPE.search(text) is not None and not isinstance(data, list)
        # The path-naming walk runs only when it can find something: a deep body is first
        # measured without naming paths.
        if suspect or (deep and json_deeper_than(data, depth_limit)):
            problem = json_problem(data, depth_limit=depth_limit, check_text=suspect)
            if problem is not None:
                field, message = problem
                raise ValidationError({field: [message]})
        return data


def _checked_form(data: Any) -> None:
    problem = _fields_problem(data, what="field")
    if problem is not None:
        field, message = problem
        raise ValidationError({field: [message]})


class StrictFormParser(FormParser):
    """DRF's form parser; a field holding unstorable text is a 400 naming it."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _checked_form(data)
        return data


class StrictMultiPartParser(MultiPartParser):
    """DRF's multipart parser; the fields (not the files) are checked as forms are."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        _checked_form(parsed.data)
        return parsed


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON; send a number or null.")


# --- query parameters and form fields ---------------------------------------------------------


def _query_bytes(part: str) -> bytes:
    # WSGI hands the query string over as latin-1 text: each character is one byte sent.
    return unquote_to_bytes(part.replace("+", " ").encode("latin-1", "replace"))


def _raw_query_problem(query_string: str) -> tuple[str, str] | None:
    """A parameter whose raw bytes are not UTF-8 (Django would silently replace them)."""
    for pair in query_string.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        for part in (name, value):
            try:
                _query_bytes(part).decode("utf-8")
            except UnicodeDecodeError:
                shown = printable(_query_bytes(name).decode("utf-8", "replace") or "(unnamed)")
                return (shown, "This parameter is not valid UTF-8.")
    return None


def _fields_problem(fields: Any, *, what: str) -> tuple[str, str] | None:
    for name, values in fields.lists():
        if problem := text_problem(name):
            return (printable(name), f"The {what} name {problem}")
        for value in values:
            if problem := text_problem(value):
                return (printable(name), f"This {what} {problem}")
    return None


def request_problem(request: HttpRequest) -> tuple[str, str] | None:
    """The first query parameter or form field that no view should see, or None."""
    query = request.META.get("QUERY_STRING", "")
    if query:
        if problem := _raw_query_problem(query):
            return problem
        if problem := _fields_problem(request.GET, what="parameter"):
            return problem
    content_type = request.META.get("CONTENT_TYPE", "")
    form = content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
    # API views parse their own bodies (the parsers below check them): reading request.POST
    # here would hide a form sent to a JSON-only endpoint from DRF, which answers it with 415.
    if request.method in ("POST", "PUT", "PATCH") and form and not _is_api(request):
        return _fields_problem(request.POST, what="field")
    return None


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class InputGuardMiddleware:
    """Refuses a request whose query parameters or form fields hold unstorable text."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = request_problem(request)
        if problem is None:
            return self.get_response(request)
        field, message = problem
        if _is_api(request):
            return JsonResponse({"errors": {field: [message]}}, status=400)
        return render(
            request,
            "400.html",
            {"field": field, "message": message},
            status=400,
        )
