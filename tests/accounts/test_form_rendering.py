"""The portal's renderer draws selects in Python, as Django's templates draw them."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils import translation
from django.utils.safestring import mark_safe

from csp_portal.form_renderer import PortalFormRenderer


class Choices(forms.Form):
    plain = forms.ChoiceField(choices=[("a", "Alpha"), ("b", "Bravo & co")])
    grouped = forms.ChoiceField(
        choices=[("", "—"), ("Cloud & co", [("azure", "Azure"), ("m365", "Microsoft 365")])],
        required=False,
    )
    many = forms.MultipleChoiceField(choices=[(1, "One"), (2, "Two"), (3, "Three")])
    numbers = forms.TypedChoiceField(
        choices=[(1500, 1500), (2.5, 2.5)], coerce=float, required=False
    )
    flagged = forms.ChoiceField(
        choices=[('x"y', mark_safe("<b>safe</b>")), ("z", "<i>unsafe</i>")],
        widget=forms.Select(attrs={"disabled": True, "data-x": 'a"b', "hidden": False}),
    )
    radios = forms.ChoiceField(choices=[("r", "Radio")], widget=forms.RadioSelect)


def _html(renderer, data) -> str:
    form = Choices(data, renderer=renderer)
    return "".join(str(form[name]) for name in Choices.base_fields)


def test_the_portal_renderer_is_the_default():
    assert settings.FORM_RENDERER == "csp_portal.form_renderer.PortalFormRenderer"
    assert isinstance(get_default_renderer(), PortalFormRenderer)


def test_selects_render_as_djangos_templates_render_them():
    for data in ({"plain": "b", "grouped": "m365", "many": ["1", "3"], "numbers": "1500"}, {}):
        with translation.override("nl"):
            ours = _html(PortalFormRenderer(), data)
            djangos = _html(DjangoTemplates(), data)
        assert ours == djangos

    html = _html(PortalFormRenderer(), {"plain": "b"})
    assert '<option value="b" selected>Bravo &amp; co</option>' in html
    assert '<optgroup label="Cloud &amp; co">' in html
    assert ' disabled data-x="a&quot;b"' in html and "hidden" not in html
    assert "<b>safe</b>" in html and "&lt;i&gt;unsafe&lt;/i&gt;" in html


def test_an_option_with_its_own_template_still_gets_it():
    class Marked(forms.Select):
        option_template_name = "django/forms/widgets/radio_option.html"

    class Form(forms.Form):
        pick = forms.ChoiceField(choices=[("a", "Alpha")], widget=Marked)

    ours = str(Form(renderer=PortalFormRenderer())["pick"])
    djangos = str(Form(renderer=DjangoTemplates())["pick"])

    assert ours == djangos
    assert '<label><input type="select" name="pick" value="a">' in ours
