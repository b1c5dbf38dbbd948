from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CannedResponse, Ticket


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; the services check sizes and types."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


ATTACHMENTS_HELP = _("PDF, images, Office documents, ZIP or text; up to 10 MB a file.")


class RequestForm(forms.Form):
    """A customer's new request."""

    kind = forms.ChoiceField(label=_("What is it about?"), choices=Ticket.Kind.choices)
    product = forms.ChoiceField(label=_("Product"), choices=Ticket.Product.choices)
    subscription = forms.ChoiceField(
        label=_("Subscription"),
        required=False,
        help_text=_("If the request concerns one of your subscriptions."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 8}))
    impact = forms.ChoiceField(
        label=_("How many people are affected?"),
        choices=[("low", _("Just me")), ("medium", _("A team")), ("high", _("The company"))],
        initial="medium",
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=[
            ("low", _("Low: it can wait")),
            ("medium", _("Medium: it slows us down")),
            ("high", _("High: we cannot work")),
        ],
        initial="medium",
    )
    attachments = MultipleFileField(label=_("Attachments"), help_text=ATTACHMENTS_HELP)

    def __init__(self, *args, subscriptions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subscription"].choices = [("", _("None in particular"))] + [
            (option.reference, option.name) for option in subscriptions
        ]
        if not subscriptions:
            del self.fields["subscription"]


class IntakeForm(forms.Form):
    """An agent opens a ticket on a customer's behalf (phone or e-mail intake)."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None)
    requester = forms.ModelChoiceField(
        label=_("Requester"), queryset=None, required=False, help_text=_("A contact of it.")
    )
    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=[(Ticket.Channel.PHONE, _("Phone")), (Ticket.Channel.EMAIL, _("E-mail"))],
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Ticket.Kind.choices)
    product = forms.ChoiceField(label=_("Product"), choices=Ticket.Product.choices)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Ticket.Priority.choices, initial="normal"
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 8}))
    attachments = MultipleFileField(label=_("Attachments"), help_text=ATTACHMENTS_HELP)

    def __init__(self, *args, customers, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["requester"].queryset = contacts
        self.fields["requester"].label_from_instance = lambda c: f"{c.user} — {c.customer}"

    def clean(self):
        data = super().clean()
        contact = data.get("requester")
        if contact and data.get("customer") and contact.customer_id != data["customer"].pk:
            self.add_error("requester", _("This person is not a contact of that customer."))
        return data


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    attachments = MultipleFileField(label=_("Attachments"), help_text=ATTACHMENTS_HELP)


class StaffReplyForm(ReplyForm):
    renders_alike = True  # blank, it draws the same on every ticket (templatetags.form_fields)
    visibility = forms.ChoiceField(
        label=_("Send as"),
        choices=[("public", _("Public reply")), ("internal", _("Internal note"))],
        widget=forms.RadioSelect,
        initial="public",
    )
    status = forms.ChoiceField(
        label=_("and set the status to"),
        required=False,
        choices=[("", _("(unchanged)"))] + Ticket.Status.choices,
    )


class PropertiesForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Ticket.Status.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Ticket.Priority.choices)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=400, help_text=_("Separated by commas.")
    )

    def __init__(self, *args, staff, **kwargs):
        """`staff`: the assignee choices, (user id, name) pairs."""
        # Its own ids: the reply form on the same page has a "status" field too.
        kwargs.setdefault("auto_id", "props_%s")
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("Unassigned"))] + [
            (str(user_id), name) for user_id, name in staff
        ]

    def clean_tags(self):
        return [t for t in self.cleaned_data["tags"].split(",") if t.strip()]


class MergeForm(forms.Form):
    renders_alike = True
    target = forms.CharField(
        label=_("Merge into ticket"), max_length=20, help_text=_("Its number or reference.")
    )


class RateForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you with the resolution?"),
        coerce=int,
        choices=[(n, str(n)) for n in range(1, 6)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea({"rows": 3})
    )


class CannedResponseForm(forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}
