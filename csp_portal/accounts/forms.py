from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from .models import (
    ContactMethod,
    ContactRole,
    Customer,
    Holiday,
    Partner,
    Role,
    ServiceHours,
    SupportPlan,
    User,
)


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "company_name",
            "primary_domain",
            "microsoft_tenant_id",
            "billing_email",
            "country",
            "language",
            "status",
        ]

    def __init__(self, *args, partner, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.partner = partner

    def clean_country(self):
        country = self.cleaned_data["country"].upper()
        if len(country) != 2 or not country.isalpha():
            raise forms.ValidationError(_("Use the two-letter country code, e.g. NL."))
        return country


class StaffInvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )


class ContactInvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    contact_role = forms.ChoiceField(
        label=_("Role"), choices=ContactRole.choices, initial=ContactRole.USER
    )


class MembershipForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    is_active = forms.BooleanField(label=_("Active"), required=False)


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    password = forms.CharField(label=_("Choose a password"), widget=forms.PasswordInput)
    password_again = forms.CharField(label=_("Password again"), widget=forms.PasswordInput)

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password and password != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        elif password:
            try:
                validate_password(
                    password, User(email=self.email, full_name=data.get("full_name", ""))
                )
            except forms.ValidationError as error:
                self.add_error("password", error)
        return data


class BrandingForm(forms.ModelForm):
    class Meta:
        model = Partner
        fields = [
            "display_name",
            "logo",
            "primary_colour",
            "time_zone",
            "default_language",
            "support_email",
            "support_phone",
            "support_summary",
            "require_staff_mfa",
        ]
        widgets = {"primary_colour": forms.TextInput(attrs={"type": "color"})}

    def clean_display_name(self):
        # One line: it becomes the From header's display name of every e-mail the partner
        # sends, where a line break would fail the sending (or add a header).
        return " ".join(self.cleaned_data["display_name"].split())

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "content_type"):
            head = logo.read(16)
            logo.seek(0)
            is_png = head.startswith(b"\x89PNG\r\n\x1a\n")
            is_jpeg = head.startswith(b"\xff\xd8\xff")
            if not (is_png or is_jpeg):
                raise forms.ValidationError(_("Upload the logo as a PNG or JPEG image."))
            if logo.size > 512 * 1024:
                raise forms.ValidationError(_("The logo may be at most 512 KB."))
        return logo


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "language", "time_zone"]


class _OfferingFormSet(forms.BaseModelFormSet):
    """A formset over one partner's rows; new rows get the partner when saved."""

    def __init__(self, *args, partner, **kwargs):
        self.partner = partner
        kwargs.setdefault("queryset", self.model.objects.for_partner(partner))
        super().__init__(*args, **kwargs)

    def save_new(self, form, commit=True):
        form.instance.partner = self.partner
        return super().save_new(form, commit=commit)


def _offering_formset(model, fields, widgets=None):
    return forms.modelformset_factory(
        model,
        formset=_OfferingFormSet,
        fields=fields,
        widgets=widgets,
        extra=1,
        can_delete=True,
    )


SupportPlanFormSet = _offering_formset(
    SupportPlan,
    [
        "name",
        "description",
        "covers_technical",
        "covers_billing",
        "covers_subscription",
        "price",
        "currency",
        "price_unit",
        "position",
    ],
    widgets={"description": forms.Textarea(attrs={"rows": 2})},
)
ServiceHoursFormSet = _offering_formset(
    ServiceHours,
    ["weekday", "opens", "closes"],
    widgets={
        "opens": forms.TimeInput(attrs={"type": "time"}),
        "closes": forms.TimeInput(attrs={"type": "time"}),
    },
)
HolidayFormSet = _offering_formset(
    Holiday, ["date", "name"], widgets={"date": forms.DateInput(attrs={"type": "date"})}
)
ContactMethodFormSet = _offering_formset(ContactMethod, ["channel", "value", "note", "position"])

OFFERING_FORMSETS = {
    "plans": SupportPlanFormSet,
    "hours": ServiceHoursFormSet,
    "holidays": HolidayFormSet,
    "contacts": ContactMethodFormSet,
}
