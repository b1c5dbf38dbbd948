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


class UncountedPage:
    """A page of a list that is not counted (search results: counting every match costs as
    much as finding the page). One row more than the page is read to know whether another
    page follows; `paginator` is None, so templates show "page n" without "of N"."""

    paginator = None

    def __init__(self, object_list, number, per_page: int):
        try:
            number = max(int(number), 1)
        except (TypeError, ValueError):
            number = 1
        offset = (number - 1) * per_page
        rows = list(object_list[offset : offset + per_page + 1])
        self.number = number
        self.object_list = rows[:per_page]
        self._more = len(rows) > per_page

    def has_next(self) -> bool:
        return self._more

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)
