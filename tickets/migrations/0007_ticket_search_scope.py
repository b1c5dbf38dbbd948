from django.db import migrations

from tickets.search import SCOPE_VECTOR_SQL

# Every ticket's vector gains the word naming its partner (tickets.search); every partner's
# rows, so the row-level-security bypass is on for this transaction.
FORWARD = f"""
SELECT set_config('csp.rls_bypass', 'on', true);
UPDATE tickets_ticket SET search_vector = coalesce(search_vector, ''::tsvector) || {SCOPE_VECTOR_SQL};
"""

BACKWARD = """
SELECT set_config('csp.rls_bypass', 'on', true);
UPDATE tickets_ticket
SET search_vector = ts_delete(search_vector, 'zzpartner' || partner_id::text);
"""


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_ticket_list_indexes")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
