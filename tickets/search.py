"""Full-text search of tickets, one partner's at a time.

Every ticket's search vector carries one extra word naming its partner (`scope_word`), and
every search asks for it as well as for what was typed. The GIN index then intersects the
typed words' rows with the partner's rows itself, so a search reads only the partner's
matches, not every partner's. (A (partner, vector) GIN index would do the same but needs the
btree_gin extension, which not every PostgreSQL server ships.) The word is lowest weight, so
it changes no ranking, and a partner_id filter and row-level security still decide which
rows are seen: the word only narrows the index scan.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import Value

CONFIG = "simple"


def scope_word(partner_id) -> str:
    return f"zzpartner{int(partner_id)}"


def scope_vector(partner_id) -> SearchVector:
    """The vector part naming the partner (added to the subject's and messages')."""
    return SearchVector(Value(scope_word(partner_id)), weight="D", config=CONFIG)


def search_query(partner_id, typed: str) -> SearchQuery:
    """What was typed (web-search syntax), within the partner's tickets."""
    return SearchQuery(typed, search_type="websearch", config=CONFIG) & SearchQuery(
        scope_word(partner_id), search_type="plain", config=CONFIG
    )


# The same vector in SQL, for the migration that backfills it and for bulk loads.
SCOPE_VECTOR_SQL = "setweight(to_tsvector('simple', 'zzpartner' || partner_id::text), 'D')"
