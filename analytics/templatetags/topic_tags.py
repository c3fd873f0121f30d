"""Template helpers for topic lists (``{% load topic_tags %}``).

A page of verbatims has a tag-correction form under every comment, each with a choice of
every topic: rendering ~200 ``<option>`` elements through the template engine 25 times was
most of the page's time. The options are the same for every form of a page, so their HTML
is built once and reused while the taxonomy stays the same.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def topic_options(topics: Iterable[tuple[str, str]], selected: str = "") -> SafeString:
    """``<option>`` elements of ``(slug, name)`` pairs (those with a slug), escaped, with
    ``selected`` on the chosen slug."""
    return _options(tuple((str(slug), str(name)) for slug, name in topics), str(selected or ""))


@functools.lru_cache(maxsize=64)
def _options(topics: tuple[tuple[str, str], ...], selected: str) -> SafeString:
    return SafeString(
        "".join(
            format_html(
                '<option value="{}" {}>{}</option>',
                slug,
                "selected" if slug == selected else "",
                name,
            )
            for slug, name in topics
            if slug
        )
    )
