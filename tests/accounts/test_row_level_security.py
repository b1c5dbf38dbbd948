"""PostgreSQL row-level security: the last line between partners."""

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from csp_portal.accounts.models import Customer
from csp_portal.accounts.tenancy import POLICY_NAME, partner_scope, tenant_models


def _partner_ids(sql: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def _rls_off():
    return partner_scope(None)


@pytest.mark.django_db
def test_raw_sql_in_partner_scope_sees_only_that_partners_rows(partner_a, partner_b):
    with partner_scope(partner_a):
        seen = _partner_ids("SELECT partner_id FROM accounts_customer")

    assert len(seen) == 3
    assert set(seen) == {partner_a.pk}


@pytest.mark.django_db
def test_other_partner_scope_sees_its_own_count(partner_a, partner_b):
    with partner_scope(partner_b):
        seen = _partner_ids("SELECT partner_id FROM accounts_customer")

    assert len(seen) == 5
    assert set(seen) == {partner_b.pk}


@pytest.mark.django_db
def test_no_scope_sees_no_tenant_row(partner_a, partner_b):
    with partner_scope(None):
        seen = _partner_ids("SELECT partner_id FROM accounts_membership")

    assert seen == []


@pytest.mark.django_db
def test_writing_another_partners_row_is_refused(partner_a, partner_b):
    with pytest.raises(DatabaseError, match="row-level security"):
        with partner_scope(partner_a):
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE accounts_customer SET company_name = 'taken' WHERE partner_id = %s",
                    [partner_b.pk],
                )
                assert cursor.rowcount == 0
                cursor.execute(
                    "INSERT INTO accounts_customer (partner_id, company_name, primary_domain, "
                    "billing_email, country, language, status, reseller_mpn_id, created_at) "
                    "VALUES (%s, 'x', '', '', 'NL', 'en', 'active', '', now())",
                    [partner_b.pk],
                )

    assert not Customer.objects.for_partner(partner_b).filter(company_name="taken").exists()


@pytest.mark.django_db
def test_scope_is_local_to_its_transaction(partner_a, partner_b):
    with partner_scope(partner_a):
        pass

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('csp.partner_id', true)")
        assert cursor.fetchone()[0] in ("", None)


@pytest.mark.django_db
def test_every_table_with_partner_id_has_forced_rls_and_the_policy():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policies p
                           WHERE p.tablename = c.relname AND p.policyname = %s)
            FROM information_schema.columns col
            JOIN pg_class c ON c.relname = col.table_name AND c.relkind = 'r'
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
            WHERE col.column_name = 'partner_id' AND col.table_schema = 'public'
            """,
            [POLICY_NAME],
        )
        tables = cursor.fetchall()

    assert len(tables) >= len(tenant_models()) >= 7
    unprotected = [
        name for name, enabled, forced, policy in tables if not (enabled and forced and policy)
    ]
    assert unprotected == []


@pytest.mark.django_db
def test_app_role_owns_nothing_cannot_bypass_and_is_filtered(partner_a, partner_b):
    role = settings.DATABASE_APP_ROLE
    assert role, "DATABASE_APP_ROLE must name the web/worker role (make test sets it)"
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        assert cursor.fetchone() == (False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s", [role]
        )
        assert cursor.fetchone()[0] == 0

    with partner_scope(partner_b), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
        cursor.execute("SELECT partner_id FROM accounts_customer")
        seen = [row[0] for row in cursor.fetchall()]
        cursor.execute("RESET ROLE")

    assert len(seen) == 5
    assert set(seen) == {partner_b.pk}


@pytest.mark.django_db
def test_test_role_does_not_bypass_rls():
    """The suite's own role must be subject to the policies, or these tests prove nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)


@pytest.mark.django_db(transaction=True)
def test_an_outermost_scope_costs_one_statement_and_leaves_nothing_behind(partner_a, partner_b):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        with partner_scope(partner_a):
            pass

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting('csp.partner_id', true), '')")
        after = cursor.fetchone()[0]
    assert (
        len(
            [
                q
                for q in queries.captured_queries
                if "set_config" in q["sql"] or "current_setting" in q["sql"]
            ]
        )
        == 1
    )
    assert after == ""
