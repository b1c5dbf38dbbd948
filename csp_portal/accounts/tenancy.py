"""Tenancy: the partner every tenant-owned row belongs to, and the guards around it.

Three layers keep one partner's data from another:

1. Every tenant-owned model inherits `TenantModel` (a non-null `partner` key). Its `objects`
   manager refuses to run a query that was not scoped with `.for_partner(partner)` (or, for a
   deliberate platform-wide read, `.unscoped()`): forgetting the scope raises at once in every
   test that reaches the code.
2. Views fetch single objects through `get_for_partner_or_404`, which answers the same 404
   whether the row is missing or another partner's.
3. PostgreSQL row-level security (installed by `install_row_level_security` after each
   migrate) admits only rows whose `partner_id` equals the transaction's `csp.partner_id`
   setting. `partner_scope()` sets it with `set_config(..., is_local => true)`, so it dies with
   the transaction and a pooled connection cannot carry it to the next request or task.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.http import Http404


class UnscopedQueryError(RuntimeError):
    """A query of tenant data was about to run without a partner scope."""


def carry_partner(rows, partner) -> None:
    """Rows read in the scope of `partner`, when it is a Partner object, carry it as their
    `partner`: reaching it costs no query."""
    if isinstance(partner, models.Model):
        for row in rows:
            row._state.fields_cache.setdefault("partner", partner)


class TenantQuerySet(models.QuerySet):
    _partner_scoped = False
    # The Partner the query was scoped with, when given as an object: the rows it returns
    # carry it as their `partner`, so `row.partner` costs no query.
    _scope_partner = None

    def for_partner(self, partner) -> TenantQuerySet:
        return self._scoped(partner, "for_partner", lambda rows, pk: rows.filter(partner_id=pk))

    def for_partner_by_row(self, partner) -> TenantQuerySet:
        """`for_partner`, with the partner checked on each row the query reads rather than
        through an index on partner. For a query that another index already narrows to the
        partner's rows (ticket search: every vector names its partner), where the planner,
        taking the two conditions for independent, would first intersect its matches with
        all of the partner's rows."""
        row_partner = models.ExpressionWrapper(
            models.F("partner_id") + 0, output_field=models.BigIntegerField()
        )
        return self._scoped(
            partner,
            "for_partner_by_row",
            lambda rows, pk: rows.alias(row_partner=row_partner).filter(row_partner=pk),
        )

    def _scoped(self, partner, method: str, narrow) -> TenantQuerySet:
        partner_id = getattr(partner, "pk", partner)
        if partner_id is None:
            raise UnscopedQueryError(f"{method}() needs a partner")
        clone = narrow(self, partner_id)
        clone._partner_scoped = True
        if isinstance(partner, models.Model):
            clone._scope_partner = partner
        return clone

    def unscoped(self) -> TenantQuerySet:
        """A deliberate query across partners (platform admin, sweeps that fan out)."""
        clone = self._chain()
        clone._partner_scoped = True
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._partner_scoped = self._partner_scoped
        clone._scope_partner = self._scope_partner
        return clone

    def _require_scope(self) -> None:
        # Related managers (customer.contacts.all()) and prefetches carry the parent instance
        # as a hint: they are scoped through a row that was itself fetched in scope.
        if not self._partner_scoped and "instance" not in self._hints:
            raise UnscopedQueryError(
                f"{self.model.__name__} query without .for_partner(): scope it to a partner"
            )

    def _fetch_all(self):
        fetching = self._result_cache is None
        if fetching:
            self._require_scope()
        super()._fetch_all()
        if fetching and self._iterable_class is models.query.ModelIterable:
            carry_partner(self._result_cache, self._scope_partner)

    def iterator(self, *args, **kwargs):
        self._require_scope()
        return super().iterator(*args, **kwargs)

    def count(self):
        self._require_scope()
        return super().count()

    def exists(self):
        self._require_scope()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs):
        self._require_scope()
        return super().update(**kwargs)

    def delete(self):
        self._require_scope()
        return super().delete()

    def in_bulk(self, *args, **kwargs):
        self._require_scope()
        return super().in_bulk(*args, **kwargs)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    pass


class TenantModel(models.Model):
    """Base of every row that belongs to one partner (child rows included)."""

    partner = models.ForeignKey("accounts.Partner", on_delete=models.CASCADE, related_name="+")

    # Django's own machinery (unique checks, admin, related managers) uses the first manager;
    # project code uses `objects`, which insists on a scope.
    unscoped_objects = models.Manager()
    objects = TenantManager()

    class Meta:
        abstract = True
        default_manager_name = "unscoped_objects"


def get_for_partner_or_404(queryset_or_model, partner, **lookup):
    """One object of `partner`, or 404 — the same 404 for a missing row and a foreign one."""
    if isinstance(queryset_or_model, type):
        queryset_or_model = queryset_or_model.objects.all()
    try:
        return queryset_or_model.for_partner(partner).get(**lookup)
    except (queryset_or_model.model.DoesNotExist, ValueError, TypeError) as error:
        raise Http404(f"No {queryset_or_model.model._meta.verbose_name} here") from error


# -- row-level security -------------------------------------------------------------------

PARTNER_SETTING = "csp.partner_id"
BYPASS_SETTING = "csp.rls_bypass"


def _read_scope(cursor) -> tuple[str, str]:
    cursor.execute(
        "SELECT coalesce(current_setting(%s, true), ''), coalesce(current_setting(%s, true), '')",
        [PARTNER_SETTING, BYPASS_SETTING],
    )
    return cursor.fetchone()


def _write_scope(cursor, partner_id: str, bypass: str) -> None:
    cursor.execute(
        "SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
        [PARTNER_SETTING, partner_id, BYPASS_SETTING, bypass],
    )


@contextmanager
def partner_scope(partner, *, bypass: bool = False) -> Iterator[None]:
    """Run the block in a transaction that row-level security scopes to `partner`.

    `partner` may be a Partner, an id, or None (no tenant rows are visible). `bypass=True` is
    for the platform operator's admin and for sweeps that enumerate partners. The previous
    scope is restored when the block ends (a rolled-back block restores it by itself).
    """
    partner_id = getattr(partner, "pk", partner)
    # In an outermost transaction (each request, each task) the settings die at commit, so
    # there is nothing to read first or restore after: one statement.
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        previous = None if outermost else _read_scope(cursor)
        _write_scope(
            cursor, "" if partner_id is None else str(int(partner_id)), "on" if bypass else "off"
        )
        yield
        # A block marked for rollback (an API error) is undone, its settings with it.
        if previous is not None and not connection.needs_rollback:
            _write_scope(cursor, *previous)


def tenant_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantModel) and not model._meta.proxy and model._meta.managed
    ]


POLICY_NAME = "partner_isolation"
# Written as a CASE rather than `bypass OR partner_id = scope`: the planner estimates the OR
# as one more selective filter on top of the query's own `partner_id = X` (the partner's
# share of rows counted twice: a partner with 5 % of the tickets was planned as 0.25 %, and
# lists were planned as joins of every row then a sort). A CASE it estimates at one half, so
# its plans (index order and LIMIT) follow the real number of rows. Same meaning: the bypass
# admits every row, otherwise only the scope's partner's; no scope admits none.
POLICY_CONDITION = (
    f"CASE WHEN current_setting('{BYPASS_SETTING}', true) = 'on' THEN true "
    f"ELSE partner_id = NULLIF(current_setting('{PARTNER_SETTING}', true), '')::bigint END"
)


def install_row_level_security(using: str = "default") -> None:
    """Enable and force RLS with the partner policy on every tenant table; grant the app role.

    Idempotent: runs after every `migrate`, so a table added by a later migration is covered
    without anyone remembering (a test lists tables with `partner_id` and checks each).
    """
    from django.db import connections

    conn = connections[using]
    with conn.cursor() as cursor:
        for model in tenant_models():
            table = conn.ops.quote_name(model._meta.db_table)
            cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}")
            cursor.execute(
                f"CREATE POLICY {POLICY_NAME} ON {table} "
                f"USING ({POLICY_CONDITION}) WITH CHECK ({POLICY_CONDITION})"
            )
        app_role = settings.DATABASE_APP_ROLE
        if app_role:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
            if cursor.fetchone():
                role = conn.ops.quote_name(app_role)
                cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
                cursor.execute(
                    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
                )
                cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
