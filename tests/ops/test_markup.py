"""csp_portal.markup escapes as Django's conditional_escape does, without its lazy check."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy, override

from csp_portal.markup import escaped, format_safe

VALUES = [
    "plain",
    "<b>\"quoted\" & 'single'</b>",
    12,
    Decimal("10.50"),
    None,
    mark_safe("<i>kept</i>"),
    gettext_lazy("Open"),
    format_html("<em>{}</em>", "<x>"),
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_value_is_escaped_as_conditional_escape_escapes_it(value):
    with override("nl"):
        assert escaped(value) == conditional_escape(value)


def test_format_safe_escapes_each_value_and_keeps_the_safe_ones():
    drawn = format_safe('<a title="{}">{}</a>{}', 'say "hi"', "<b>", mark_safe("<br>"))

    assert drawn == '<a title="say &quot;hi&quot;">&lt;b&gt;</a><br>'
    assert isinstance(drawn, SafeString)
    assert drawn == format_html('<a title="{}">{}</a>{}', 'say "hi"', "<b>", mark_safe("<br>"))
