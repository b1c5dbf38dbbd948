"""The portal's form renderer: Django's `TemplatesSetting` (templates/django/forms/ may
replace a widget's template), except that a select is drawn here in Python.

A select drawn by its templates costs two template includes per option (the option and its
attributes): a page of selects — the ticket page's properties panel has three, one of them
every assignee — spent about a millisecond in them. The HTML is Django's own, byte for byte
(tests/accounts/test_form_rendering.py compares them); an option with a template of its own
still gets it."""

from __future__ import annotations

from django.forms.renderers import TemplatesSetting
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe

from .markup import escaped, format_safe

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def attributes(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html: ` name="value"`, a bare ` name` for True, nothing
    for False."""
    return "".join(
        f" {escaped(name)}" if value is True else f' {escaped(name)}="{escaped(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class PortalFormRenderer(TemplatesSetting):
    def render(self, template_name, context, request=None):
        if template_name == SELECT_TEMPLATE:
            return self.select(context["widget"], request)
        return super().render(template_name, context, request)

    def select(self, widget: dict, request=None) -> SafeString:
        parts = [f'<select name="{escaped(widget["name"])}"{attributes(widget["attrs"])}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_safe('\n  <optgroup label="{}">', localize(group_name)))
            for option in group_choices:
                parts.append("\n  ")
                parts.append(self.option(option, request))
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped

    def option(self, option: dict, request=None) -> str:
        if option["template_name"] != OPTION_TEMPLATE:
            # Included, as the select template would: not stripped of its last newline.
            return self.get_template(option["template_name"]).render({"widget": option}, request)
        return (
            f'<option value="{escaped(option["value"])}"'
            f"{attributes(option['attrs'])}>{escaped(localize(option['label']))}"
            "</option>\n"
        )
