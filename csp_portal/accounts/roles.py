"""Roles and what they may do.

Partner staff hold one or more roles in a membership (the names follow Partner Center's own
roles); customers' users are contacts of one customer, as admin or user. Views and API
endpoints ask for a capability, never for a role, so this table is the one place where the
design's role table lives.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    GLOBAL_ADMIN = "global_admin", _("Global admin")
    USER_ADMIN = "user_admin", _("User management admin")
    ADMIN_AGENT = "admin_agent", _("Admin agent")
    HELPDESK_AGENT = "helpdesk_agent", _("Helpdesk agent")
    BILLING_ADMIN = "billing_admin", _("Billing admin")
    SALES_AGENT = "sales_agent", _("Sales agent")


class ContactRole(models.TextChoices):
    ADMIN = "admin", _("Customer admin")
    USER = "user", _("Customer user")


class Capability(models.TextChoices):
    PARTNER_MANAGE = "partner.manage", _("Manage branding, policies, entitlements and API tokens")
    PEOPLE_MANAGE = "people.manage", _("Invite, deactivate and change roles of users")
    CUSTOMERS_VIEW = "customers.view", _("See customers")
    CUSTOMERS_EDIT = "customers.edit", _("Edit customers")
    SUBSCRIPTIONS_MANAGE = "subscriptions.manage", _("Manage subscriptions")
    SUBSCRIPTIONS_SUSPEND = "subscriptions.suspend", _("Suspend and reactivate subscriptions")
    TICKETS_READ = "tickets.read", _("Read tickets")
    TICKETS_WORK = "tickets.work", _("Work tickets, including internal notes")
    ESCALATIONS_CREATE = "escalations.create", _("Escalate to Microsoft or the provider")
    BILLING_READ = "billing.read", _("Read invoices and payments")
    BILLING_MANAGE = "billing.manage", _("Payments, imports, collection policy and dunning")


_ALL = set(Role)
CAPABILITY_ROLES: dict[Capability, frozenset[Role]] = {
    Capability.PARTNER_MANAGE: frozenset({Role.GLOBAL_ADMIN}),
    Capability.PEOPLE_MANAGE: frozenset({Role.GLOBAL_ADMIN, Role.USER_ADMIN}),
    Capability.CUSTOMERS_VIEW: frozenset(_ALL - {Role.USER_ADMIN}),
    Capability.CUSTOMERS_EDIT: frozenset(
        {Role.GLOBAL_ADMIN, Role.ADMIN_AGENT, Role.HELPDESK_AGENT, Role.SALES_AGENT}
    ),
    Capability.SUBSCRIPTIONS_MANAGE: frozenset(
        {Role.GLOBAL_ADMIN, Role.ADMIN_AGENT, Role.SALES_AGENT}
    ),
    Capability.SUBSCRIPTIONS_SUSPEND: frozenset(
        {Role.GLOBAL_ADMIN, Role.ADMIN_AGENT, Role.BILLING_ADMIN}
    ),
    Capability.TICKETS_READ: frozenset(
        {
            Role.GLOBAL_ADMIN,
            Role.ADMIN_AGENT,
            Role.HELPDESK_AGENT,
            Role.BILLING_ADMIN,
            Role.SALES_AGENT,
        }
    ),
    Capability.TICKETS_WORK: frozenset(
        {Role.GLOBAL_ADMIN, Role.ADMIN_AGENT, Role.HELPDESK_AGENT, Role.BILLING_ADMIN}
    ),
    Capability.ESCALATIONS_CREATE: frozenset(
        {Role.GLOBAL_ADMIN, Role.ADMIN_AGENT, Role.HELPDESK_AGENT}
    ),
    Capability.BILLING_READ: frozenset({Role.GLOBAL_ADMIN, Role.ADMIN_AGENT, Role.BILLING_ADMIN}),
    Capability.BILLING_MANAGE: frozenset({Role.GLOBAL_ADMIN, Role.BILLING_ADMIN}),
}


def roles_allow(roles, capability: Capability) -> bool:
    """Whether any of `roles` grants `capability`."""
    allowed = CAPABILITY_ROLES[Capability(capability)]
    return any(Role(role) in allowed for role in roles)


def role_labels(roles) -> list[str]:
    """Display names of role values, in order."""
    return [str(Role(role).label) for role in roles]
