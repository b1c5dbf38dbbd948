"""The backup and restore drill: pg_dump of a seeded database, pg_restore into a fresh one,
and the portal serves the restored data — row-level security and the audit log's append-only
trigger included. Uses the pg_dump / pg_restore that ship with the embedded PostgreSQL (the
same major version as the server); production runs the managed server's own tools."""

import os
import subprocess
from pathlib import Path

import pgserver
import pytest
from django.db import DatabaseError, connection, transaction

from csp_portal.audit.services import audit_record
from tests.factories.tickets import TicketFactory

PG_BIN = Path(pgserver.__file__).parent / "pginstall" / "bin"


def _libpq_env(settings_dict, name):
    env = {**os.environ, "PGDATABASE": name, "PGUSER": settings_dict["USER"]}
    host = settings_dict.get("HOST") or settings_dict.get("OPTIONS", {}).get("host")
    if host:
        env["PGHOST"] = host
    if settings_dict.get("PORT"):
        env["PGPORT"] = str(settings_dict["PORT"])
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return env


@pytest.fixture
def restored_database(tmp_path):
    """(dump file, name) of a fresh database restored from a dump of the test database; the
    default connection is pointed at it inside the block and back afterwards."""
    original = connection.settings_dict["NAME"]
    name = f"{original}_restored"[:60]
    dump = tmp_path / "portal.dump"
    yield dump, name
    connection.close()
    connection.settings_dict["NAME"] = original
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)} WITH (FORCE)")


@pytest.mark.django_db(transaction=True)
def test_dump_and_restore_into_a_fresh_database_then_serve_it(
    tenant_a, tenant_b, restored_database
):
    dump, name = restored_database
    ticket = TicketFactory(
        customer=tenant_a.customer, requester=tenant_a.customer_user.user, subject="Restore me"
    )
    event = audit_record(partner=tenant_a.partner, actor=None, action="backup.seeded")
    settings_dict = connection.settings_dict
    env = _libpq_env(settings_dict, settings_dict["NAME"])

    # Every tenant table forces row-level security, on its owner too: the dump reads with the
    # policies on and the platform's bypass set, so it sees every partner's rows.
    subprocess.run(
        [PG_BIN / "pg_dump", "--enable-row-security", "--format=custom", "--file", dump],
        env={**env, "PGOPTIONS": "-c csp.rls_bypass=on"},
        check=True,
        timeout=300,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
    subprocess.run(
        [PG_BIN / "pg_restore", "--no-owner", "--exit-on-error", "--dbname", name, dump],
        env=env,
        check=True,
        timeout=300,
    )
    connection.close()
    connection.settings_dict["NAME"] = name

    customers_a = tenant_a.client(tenant_a.admin.user).get("/staff/customers/")
    customers_b = tenant_b.client(tenant_b.admin.user).get("/staff/customers/")
    ticket_page = tenant_a.client(tenant_a.admin.user).get(f"/staff/tickets/{ticket.pk}/")
    foreign = tenant_b.client(tenant_b.admin.user).get(f"/staff/tickets/{ticket.pk}/")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        served_from = cursor.fetchone()[0]
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("SELECT set_config('csp.rls_bypass', 'on', true)")
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])

    assert served_from == name
    assert customers_a.context["page"].paginator.count == 3
    assert customers_b.context["page"].paginator.count == 5
    assert ticket_page.status_code == 200 and "Restore me" in ticket_page.content.decode()
    assert foreign.status_code == 404
