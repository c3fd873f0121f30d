"""Template helpers of text analytics pages (``{% load text_tags %}``)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django import template
from django.template.defaultfilters import floatformat
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils.html import escape, format_html_join
from django.utils.safestring import SafeString, mark_safe

from analytics.text.selectors import ResponseTag

register = template.Library()


@functools.lru_cache(maxsize=32)
def _options(topics: tuple[tuple[str, str], ...], selected: str) -> SafeString:
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, " selected" if value == selected else "", label)
            for value, label in topics
            if value
        ),
    )


@register.simple_tag
def topic_options(topics: Sequence[tuple[str, str]], selected: str = "") -> SafeString:
    """The ``<option>`` elements of a tag correction's topic choice. A page lists dozens of
    comments, each with the same choice of every topic: the elements are built once for
    each list of topics and selection, not once per comment."""
    return _options(tuple((str(value), str(label)) for value, label in topics), str(selected or ""))


@functools.lru_cache(maxsize=4096)
def _two_decimals(value: float) -> str:
    return str(floatformat(value, 2))


@register.simple_tag(takes_context=True)
def response_tag_items(
    context: template.Context,
    tags: Sequence[ResponseTag],
    response_id: int,
    can_edit: bool,
    next_path: str,
) -> SafeString:
    """A comment's tags (``response_topics_map``) as list items, each with its "remove" form
    for CX managers: the topic page lists dozens of comments with their every tag, and
    building the items here costs a fraction of a template loop (the markup is the same,
    every value escaped)."""
    form_start = ""
    if can_edit:
        action = reverse("analytics-tag-correct-page", args=[response_id])
        form_start = f'<form method="post" action="{escape(action)}" class="inline">' + str(
            CsrfTokenNode().render(context)
        )
    back = escape(f"{next_path}#response-{response_id}")
    items = []
    for tag in tags:
        name = escape(tag.topic_name)
        sentiment = "" if tag.sentiment is None else f" {_two_decimals(tag.sentiment)}"
        item = (
            f'<li><span class="badge {escape(tag.sentiment_label or "neutral")}">{name}'
            f'{sentiment}</span> <span class="muted">{escape(tag.origin_label)}</span>'
        )
        if can_edit:
            item += (
                f' {form_start}<input type="hidden" name="topic" value="{escape(tag.topic_slug)}">'
                '<input type="hidden" name="action" value="remove">'
                f'<input type="hidden" name="next" value="{back}">'
                f'<button type="submit" class="link" aria-label="Remove {name} from response '
                f'{response_id}">remove</button></form>'
            )
        items.append(item + "</li>")
    return mark_safe("\n".join(items))  # every value above is escaped
