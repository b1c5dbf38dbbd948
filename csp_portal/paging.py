"""Pagination that does not count what is already counted."""

from __future__ import annotations

from django.core.paginator import Paginator


class CountedPaginator(Paginator):
    """A Paginator told the number of objects when the page already knows it (a view's
    count shown beside the list), so it does not run a second COUNT over the same rows.
    Without `count` it counts as Django's does."""

    def __init__(self, object_list, per_page, *, count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        if count is not None:
            self.__dict__["count"] = count  # Paginator.count is a cached_property
