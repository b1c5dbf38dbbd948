"""Who is who: partners (the tenants), their customers, people, memberships and roles."""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import Capability, ContactRole, Role, role_labels, roles_allow
from .tenancy import TenantModel

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]
currency_code = RegexValidator(r"^[A-Z]{3}$", _("Use the three-letter ISO 4217 code, e.g. EUR."))
hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #0a5cad."))
slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$",
    _("Lower-case letters, digits and hyphens; no hyphen at either end."),
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. `is_staff` means the platform operator's Django admin, not partner staff."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True, choices=settings.LANGUAGES)
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, choices=TIME_ZONE_CHOICES
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("platform operator"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        self.email = self.email.lower()
        super().save(*args, **kwargs)

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class PartnerQuerySet(models.QuerySet):
    """Bulk writes forget the cached partners they touch (partner_cache), before and after."""

    def _forget(self):
        from . import partner_cache

        partner_cache.forget(self.values_list("slug", "custom_domain"))

    def update(self, **kwargs):
        self._forget()
        with transaction.atomic(using=self.db):
            rows = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs)
        Partner.objects.filter(pk__in=rows)._forget()
        return count

    update.queryset_only = True

    def delete(self):
        self._forget()
        return super().delete()

    delete.queryset_only = True


class Partner(models.Model):
    """A CSP partner: the tenant, with its own branded portal."""

    class Kind(models.TextChoices):
        DIRECT_BILL = "direct_bill", _("Direct-bill partner")
        INDIRECT_PROVIDER = "indirect_provider", _("Indirect provider")
        INDIRECT_RESELLER = "indirect_reseller", _("Indirect reseller")

    class Cloud(models.TextChoices):
        COMMERCIAL = "commercial", _("Microsoft commercial cloud")
        US_GOVERNMENT = "us_government", _("Microsoft Cloud for US Government")

    slug = models.SlugField(
        _("portal address"), max_length=40, unique=True, validators=[slug_validator]
    )
    display_name = models.CharField(_("display name"), max_length=120)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    provider = models.ForeignKey(
        "self",
        verbose_name=_("indirect provider"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resellers",
        limit_choices_to={"kind": "indirect_provider"},
    )
    cloud = models.CharField(
        _("cloud"), max_length=20, choices=Cloud.choices, default=Cloud.COMMERCIAL
    )
    mpn_id = models.CharField(_("partner ID (MPN)"), max_length=20, blank=True)
    custom_domain = models.CharField(
        _("custom domain"), max_length=253, null=True, blank=True, unique=True
    )
    custom_domain_verified = models.BooleanField(_("custom domain verified"), default=False)
    logo = models.FileField(_("logo"), upload_to="partner-logos/", blank=True)
    primary_colour = models.CharField(
        _("brand colour"), max_length=7, default="#0a5cad", validators=[hex_colour]
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Amsterdam", choices=TIME_ZONE_CHOICES
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    default_language = models.CharField(
        _("default language"), max_length=8, default="en", choices=settings.LANGUAGES
    )
    support_email = models.EmailField(_("support e-mail address"), blank=True)
    support_phone = models.CharField(_("support phone"), max_length=40, blank=True)
    support_summary = models.TextField(_("support offering summary"), blank=True)
    require_staff_mfa = models.BooleanField(_("staff must use two-factor sign-in"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PartnerQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="indirect_reseller", provider__isnull=False)
                    | (~models.Q(kind="indirect_reseller") & models.Q(provider__isnull=True))
                ),
                name="partner_reseller_has_provider",
            ),
        ]

    def __str__(self):
        return self.display_name

    def save(self, *args, **kwargs):
        from . import partner_cache

        if self.pk is not None:
            Partner.objects.filter(pk=self.pk)._forget()  # the names it had
        super().save(*args, **kwargs)
        partner_cache.forget([(self.slug, self.custom_domain)])

    def delete(self, *args, **kwargs):
        from . import partner_cache

        partner_cache.forget([(self.slug, self.custom_domain)])
        return super().delete(*args, **kwargs)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def host(self) -> str:
        if self.custom_domain and self.custom_domain_verified:
            return self.custom_domain
        return f"{self.slug}.{settings.PORTAL_DOMAIN}"

    def portal_url(self, path: str = "/") -> str:
        """Absolute URL of `path` on this partner's portal, built from configuration only
        (never from a request's Host header)."""
        scheme = settings.PORTAL_SCHEME
        if settings.PORTAL_DOMAIN in {"localhost", "127.0.0.1"} and not self.custom_domain_verified:
            port = f":{settings.PORTAL_PORT}" if settings.PORTAL_PORT not in (80, 443) else ""
            return f"{scheme}://{settings.PORTAL_DOMAIN}{port}/p/{self.slug}{path}"
        return f"{scheme}://{self.host}{path}"


class Customer(TenantModel):
    """A company that buys from the partner (a CSP customer, with its Microsoft tenant)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ON_HOLD = "on_hold", _("On hold")
        SUSPENDED = "suspended", _("Suspended")
        INACTIVE = "inactive", _("Inactive")

    company_name = models.CharField(_("company name"), max_length=200)
    primary_domain = models.CharField(_("primary domain"), max_length=253, blank=True)
    microsoft_tenant_id = models.UUIDField(_("Microsoft tenant ID"), null=True, blank=True)
    billing_email = models.EmailField(_("billing e-mail"), blank=True)
    country = models.CharField(_("country"), max_length=2, default="NL")
    language = models.CharField(
        _("language"), max_length=8, default="en", choices=settings.LANGUAGES
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    reseller_mpn_id = models.CharField(_("indirect reseller MPN ID"), max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["company_name"]
        indexes = [models.Index(fields=["partner", "company_name"])]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "microsoft_tenant_id"], name="customer_unique_tenant_per_partner"
            )
        ]

    def __str__(self):
        return self.company_name


class Membership(TenantModel):
    """A partner staff member: a user's roles in one partner."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    roles = ArrayField(models.CharField(max_length=20, choices=Role.choices), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "user"], name="membership_unique_user")
        ]

    def __str__(self):
        return f"{self.user} @ {self.partner_id}"

    def allows(self, capability: Capability) -> bool:
        return self.is_active and roles_allow(self.roles, capability)

    def role_labels(self) -> list[str]:
        return role_labels(self.roles)


class CustomerContact(TenantModel):
    """A customer's user on the partner's portal, as admin or user of that customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_contacts"
    )
    role = models.CharField(
        _("role"), max_length=10, choices=ContactRole.choices, default=ContactRole.USER
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "user"], name="contact_unique_user_per_partner"
            )
        ]

    def __str__(self):
        return f"{self.user} ({self.customer})"

    @property
    def is_admin(self) -> bool:
        return self.role == ContactRole.ADMIN


# -- the published support offering ----------------------------------------------------------


class SupportPlan(TenantModel):
    """A kind of support the partner offers, with its price (the seeds: say what support you
    offer and what it costs)."""

    class PriceUnit(models.TextChoices):
        INCLUDED = "included", _("included")
        PER_MONTH = "per_month", _("per month")
        PER_USER_MONTH = "per_user_month", _("per user per month")
        PER_INCIDENT = "per_incident", _("per incident")
        PER_HOUR = "per_hour", _("per hour")

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    covers_technical = models.BooleanField(_("technical support"), default=True)
    covers_billing = models.BooleanField(_("billing support"), default=True)
    covers_subscription = models.BooleanField(_("subscription management"), default=True)
    price = models.DecimalField(
        _("price"), max_digits=12, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(
        _("currency"), max_length=3, default="EUR", validators=[currency_code]
    )
    price_unit = models.CharField(
        _("price unit"), max_length=20, choices=PriceUnit.choices, default=PriceUnit.INCLUDED
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["partner", "position", "name"]

    def __str__(self):
        return self.name


class ServiceHours(TenantModel):
    """One opening window on one weekday, in the partner's time zone."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["partner", "weekday", "opens"]
        verbose_name_plural = _("service hours")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")), name="service_hours_window"
            )
        ]


class Holiday(TenantModel):
    """A day the partner's desk is closed."""

    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["partner", "date"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "date"], name="holiday_unique_date")
        ]


class ContactMethod(TenantModel):
    """How customers reach the partner's support."""

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Portal")
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        CHAT = "chat", _("Chat")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    value = models.CharField(_("address or number"), max_length=200)
    note = models.CharField(_("note"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["partner", "position"]


# -- invitations ------------------------------------------------------------------------------


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


def _invitation_expiry():
    return timezone.now() + timedelta(days=14)


class Invitation(TenantModel):
    """An invitation to join a partner's portal as staff (roles) or as a customer's contact."""

    email = models.EmailField(_("e-mail address"))
    roles = ArrayField(
        models.CharField(max_length=20, choices=Role.choices), default=list, blank=True
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    contact_role = models.CharField(max_length=10, choices=ContactRole.choices, blank=True)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(customer__isnull=True, contact_role="") & ~models.Q(roles=[]))
                | (models.Q(customer__isnull=False, roles=[]) & ~models.Q(contact_role="")),
                name="invitation_staff_or_contact",
            )
        ]

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )

    @property
    def is_staff_invitation(self) -> bool:
        return self.customer_id is None

    def role_labels(self) -> list[str]:
        return role_labels(self.roles)
