"""The desk's SLA settings form: targets per priority and the auto-close delay."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DeskSettings, Ticket
from .sla_selectors import PRIORITY_ORDER

MAX_MINUTES = 60 * 24 * 60  # sixty days of round-the-clock minutes


class SlaSettingsForm(forms.Form):
    auto_close_after_days = forms.IntegerField(
        label=_("Close resolved tickets after this many days without a customer reply"),
        min_value=1,
        max_value=90,
        initial=DeskSettings.DEFAULT_AUTO_CLOSE_DAYS,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for priority in PRIORITY_ORDER:
            label = Ticket.Priority(priority).label
            self.fields[f"{priority}_first_response"] = forms.IntegerField(
                label=_("%(priority)s: first response (business minutes)") % {"priority": label},
                min_value=1,
                max_value=MAX_MINUTES,
            )
            self.fields[f"{priority}_resolution"] = forms.IntegerField(
                label=_("%(priority)s: resolution (business minutes)") % {"priority": label},
                min_value=1,
                max_value=MAX_MINUTES,
            )

    def clean(self):
        data = super().clean()
        for priority in PRIORITY_ORDER:
            first = data.get(f"{priority}_first_response")
            resolution = data.get(f"{priority}_resolution")
            if first and resolution and resolution < first:
                self.add_error(
                    f"{priority}_resolution",
                    _("The resolution target cannot be shorter than the first response target."),
                )
        return data

    def targets(self) -> dict[str, tuple[int, int]]:
        return {
            priority: (
                self.cleaned_data[f"{priority}_first_response"],
                self.cleaned_data[f"{priority}_resolution"],
            )
            for priority in PRIORITY_ORDER
        }
