"""No tenant row without `partner_id`: every TenantModel has the column (and so the
row-level security policy, which tests/accounts/test_row_level_security.py checks for every
table that has it), and every model of the project's apps that points at a tenant row is
itself a tenant row — child rows carry `partner_id` too (DESIGN.md, Tenancy)."""

import pytest
from django.apps import apps
from django.db import connection, models

from csp_portal.accounts.tenancy import POLICY_NAME, TenantModel, tenant_models

PROJECT_APPS = ("csp_portal", "tickets", "billing", "escalation")

# The project's models that are not tenant rows, and why. Any other model must be one.
NOT_TENANT_ROWS = {
    "accounts.Partner": "the tenant itself (its provider link points at another partner)",
    "accounts.User": "a person may belong to several partners; memberships and contacts, "
    "which are tenant rows, say where",
    "tickets.InboundRejection": "the platform operator's log of e-mail refused before any "
    "partner was known",
    "outbox.OutboxMessage": "the transactional outbox: a task name and ids only (the task "
    "re-fetches inside its partner's scope); one relay publishes every partner's rows",
}


def _project_models():
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith(PROJECT_APPS)
        and model._meta.managed
        and not model._meta.proxy
    ]


def _points_at_a_tenant_row(model) -> list[str]:
    return [
        field.name
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey | models.OneToOneField)
        and not field.auto_created
        and isinstance(field.related_model, type)
        and issubclass(field.related_model, TenantModel)
    ]


def test_every_model_pointing_at_a_tenant_row_is_a_tenant_row():
    missing = [
        (model._meta.label, _points_at_a_tenant_row(model))
        for model in _project_models()
        if _points_at_a_tenant_row(model)
        and not issubclass(model, TenantModel)
        and model._meta.label not in NOT_TENANT_ROWS
    ]

    assert missing == []


def test_every_project_model_is_a_tenant_row_or_a_listed_exception():
    unlisted = [
        model._meta.label
        for model in _project_models()
        if not issubclass(model, TenantModel) and model._meta.label not in NOT_TENANT_ROWS
    ]

    assert unlisted == []


def test_the_exceptions_point_at_no_tenant_row_but_partners():
    for label in NOT_TENANT_ROWS:
        assert _points_at_a_tenant_row(apps.get_model(label)) == [], label


def test_the_exceptions_are_still_models_of_the_project():
    labels = {model._meta.label for model in _project_models()}

    assert set(NOT_TENANT_ROWS) <= labels


def test_every_project_app_has_tenant_models():
    covered = {model._meta.app_label for model in tenant_models()}

    assert {"accounts", "tickets", "billing", "escalation", "api", "audit", "privacy"} <= covered


@pytest.mark.django_db
def test_every_tenant_model_has_the_partner_id_column_and_the_policy():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname "
            "AND p.policyname = %s), "
            "EXISTS (SELECT 1 FROM information_schema.columns col "
            "WHERE col.table_name = c.relname AND col.column_name = 'partner_id' "
            "AND col.is_nullable = 'NO') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'",
            [POLICY_NAME],
        )
        tables = {row[0]: row[1:] for row in cursor.fetchall()}

    unprotected = [
        model._meta.db_table
        for model in tenant_models()
        if tables.get(model._meta.db_table) != (True, True, True, True)
    ]

    assert len(tenant_models()) >= 20
    assert unprotected == []
