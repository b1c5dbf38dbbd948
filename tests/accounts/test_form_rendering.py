"""The project's select template draws the same HTML as Django's own."""

from __future__ import annotations

import re

from django import forms
from django.forms.renderers import DjangoTemplates, TemplatesSetting


class Choices(forms.Form):
    plain = forms.ChoiceField(choices=[("a", "Alpha"), ("b", "Bravo & co")])
    grouped = forms.ChoiceField(
        choices=[("", "—"), ("Cloud", [("azure", "Azure"), ("m365", "Microsoft 365")])],
        required=False,
    )
    many = forms.MultipleChoiceField(choices=[(1, "One"), (2, "Two"), (3, "Three")])


def _html(renderer, data) -> str:
    form = Choices(data, renderer=renderer)
    html = "".join(str(form[name]) for name in ("plain", "grouped", "many"))
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


def test_the_project_select_template_is_the_one_used():
    template = TemplatesSetting().get_template("django/forms/widgets/select.html")

    assert template.origin.name.endswith("templates/django/forms/widgets/select.html")
    assert "site-packages" not in template.origin.name


def test_selects_render_as_django_renders_them():
    data = {"plain": "b", "grouped": "m365", "many": ["1", "3"]}

    ours = _html(TemplatesSetting(), data)
    djangos = _html(DjangoTemplates(), data)

    assert ours == djangos
    assert '<option value="b" selected>Bravo &amp; co</option>' in ours
    assert '<optgroup label="Cloud">' in ours
