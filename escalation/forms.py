from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.models import Ticket

from .models import Delivery, Severity, SupportBenefit, SupportContract


class _PartnerFormSet(forms.BaseModelFormSet):
    """A formset over one partner's rows; new rows get the partner when saved."""

    unique_field: str | None = None

    def __init__(self, *args, partner, **kwargs):
        self.partner = partner
        kwargs.setdefault("queryset", self.model.objects.for_partner(partner))
        super().__init__(*args, **kwargs)

    def clean(self):
        super().clean()
        if not self.unique_field:
            return
        seen = set()
        for form in self.forms:
            if not form.has_changed() and not form.instance.pk:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            value = form.cleaned_data.get(self.unique_field)
            if value in seen:
                raise forms.ValidationError(_("Each benefit can be recorded once."))
            seen.add(value)


class _BenefitFormSet(_PartnerFormSet):
    unique_field = "kind"


_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

SupportContractFormSet = forms.modelformset_factory(
    SupportContract,
    formset=_PartnerFormSet,
    fields=["kind", "contract_id", "valid_from", "valid_to"],
    widgets={"valid_from": _DATE, "valid_to": _DATE},
    extra=1,
    can_delete=True,
)
SupportBenefitFormSet = forms.modelformset_factory(
    SupportBenefit,
    formset=_BenefitFormSet,
    fields=[
        "kind",
        "access_id",
        "contract_id",
        "incident_allowance",
        "incidents_used",
        "renewal_date",
        "is_active",
    ],
    widgets={"renewal_date": _DATE},
    extra=1,
    can_delete=True,
)


class EscalationForm(forms.Form):
    channel = forms.ChoiceField(label=_("Support channel"), widget=forms.RadioSelect)
    severity = forms.ChoiceField(label=_("Severity at Microsoft"), choices=Severity.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}))
    contact_name = forms.CharField(label=_("Contact name"), max_length=150)
    contact_email = forms.EmailField(label=_("Contact e-mail"))
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    subscription_ref = forms.CharField(
        label=_("Subscription (name or ID)"), max_length=100, required=False
    )
    attachments = forms.MultipleChoiceField(
        label=_("Attachments to send"), required=False, widget=forms.CheckboxSelectMultiple
    )
    azure_subscription_id = forms.CharField(
        label=_("Customer's Azure subscription ID"),
        max_length=64,
        required=False,
        help_text=_("For an Azure support ticket."),
    )
    azure_resource_id = forms.CharField(
        label=_("Resource ID"), max_length=500, required=False, help_text=_("Optional.")
    )
    problem_classification_id = forms.ChoiceField(label=_("Problem classification"), required=False)

    def __init__(self, *args, options, attachments, catalog, **kwargs):
        super().__init__(*args, **kwargs)
        self.options = options
        self.fields["channel"].choices = [(o.channel, o.label) for o in options if o.eligible]
        self.fields["attachments"].choices = [(str(a.pk), a.original_name) for a in attachments]
        self.fields["problem_classification_id"].choices = [("", "—")] + [
            (c["id"], f"{c['service']} — {c['name']}") for c in (catalog or [])
        ]
        self.catalog_loaded = catalog is not None
        if not any(o.eligible and o.delivery == Delivery.AZURE_API for o in options):
            for name in ("azure_subscription_id", "azure_resource_id", "problem_classification_id"):
                del self.fields[name]

    def full_clean(self):
        # A classification Microsoft removed since the form was drawn is reported plainly
        # rather than as Django's generic "not one of the available choices".
        super().full_clean()
        errors = self.errors.get("problem_classification_id")
        if errors and self.data.get("problem_classification_id"):
            self.errors["problem_classification_id"] = self.error_class(
                [_("That problem classification no longer exists at Microsoft: choose another.")]
            )


def escalation_initial(*, ticket: Ticket, user, preferred, severity: str) -> dict:
    """The escalation form's first values; `ticket` as tickets.selectors.ticket_detail reads
    it (its first message is the description)."""
    first = ticket.conversation[0] if ticket.conversation else None
    return {
        "channel": preferred.channel if preferred else "",
        "severity": severity,
        "title": ticket.subject,
        "description": first.body if first else "",
        "contact_name": user.full_name or user.email,
        "contact_email": user.email,
    }


class CaseNumberForm(forms.Form):
    case_number = forms.CharField(
        label=_("Microsoft's case number"),
        max_length=40,
        help_text=_("The number Partner Center shows for the request, e.g. 616122292874576."),
    )
