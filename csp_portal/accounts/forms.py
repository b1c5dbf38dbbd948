from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from .models import ContactRole, Customer, Partner, Role, User


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
