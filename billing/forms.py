from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from .models import CollectionPolicy, Payment


class PaymentForm(forms.Form):
    amount = forms.CharField(label=_("Amount"), max_length=20)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    received_on = forms.DateField(
        label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    method = forms.ChoiceField(label=_("Method"), choices=Payment.Method.choices)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)


class SuspendForm(forms.Form):
    subscription = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class PolicyForm(forms.Form):
    reminder_steps = forms.CharField(
        label=_("Reminder steps (days relative to the due date, comma-separated)"),
        initial="-3, 1, 7, 14",
    )
    final_notice_day = forms.IntegerField(label=_("Final notice (the last step)"), initial=14)
    grace_days = forms.IntegerField(label=_("Grace days after the final notice"), initial=7)
    suspend_scope = forms.ChoiceField(
        label=_("What is suspended"), choices=CollectionPolicy.SuspendScope.choices
    )
    minimum_overdue_amount = forms.CharField(label=_("Minimum overdue amount"), initial="50.00")
    currency = forms.CharField(label=_("Currency"), max_length=3)
    reinstate_on_payment = forms.BooleanField(
        label=_("Reinstate when the overdue amount is paid"), required=False, initial=True
    )
    notes = forms.CharField(
        label=_("Notes for customers"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Reconciliation file (CSV)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.RECONCILIATION_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file may be at most %(size)s.") % {"size": filesizeformat(limit)}
            )
        return upload


class InquiryForm(forms.Form):
    KINDS = [
        ("copy", _("Send me a copy")),
        ("explanation", _("Explain a charge")),
        ("dispute", _("I dispute this invoice")),
        ("payment_plan", _("I would like a payment plan")),
    ]
    kind = forms.ChoiceField(label=_("What is your question about?"), choices=KINDS)
    message = forms.CharField(label=_("Your question"), widget=forms.Textarea(attrs={"rows": 4}))
