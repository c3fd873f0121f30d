"""``{% topic_options %}``: the tag-correction form's topics, drawn once per taxonomy."""

from __future__ import annotations

from django.template import Context, Template

from analytics.templatetags.text_tags import topic_options

LOOP = Template(
    '{% for value, label in topics %}{% if value %}<option value="{{ value }}"'
    "{% if value == selected_topic %} selected{% endif %}>{{ label }}</option>{% endif %}"
    "{% endfor %}"
)
TOPICS = [("", "Any topic"), ("wait", 'Wait "time" <b>&</b>'), ("staff", "Friendly staff")]


def test_the_options_are_those_the_template_loop_drew() -> None:
    """Escaped names, a blank value left out, ``selected`` on the chosen slug only."""
    for selected in ("", "wait", "staff", "unknown"):
        expected = LOOP.render(Context({"topics": TOPICS, "selected_topic": selected}))

        assert topic_options(TOPICS, selected) == expected
        assert topic_options(list(TOPICS), selected) == expected  # remembered, same bytes


def test_a_renamed_topic_is_drawn_with_its_new_name() -> None:
    """The taxonomy is part of what is remembered."""
    assert "Friendly staff" in topic_options(TOPICS)
    renamed = [*TOPICS[:2], ("staff", "People")]

    assert "People" in topic_options(renamed) and "Friendly staff" not in topic_options(renamed)
