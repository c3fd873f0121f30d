"""``field__any=values``: membership as one array parameter (``= ANY(%s)``) on PostgreSQL.

``field__in=[...]`` binds one parameter per value, and with psycopg's client-side binding
each value is merged into the query text one by one: about 3 µs a value, so a batch of
5,000 ids costs ~15 ms of CPU before PostgreSQL parses the long list. ``= ANY(%s)`` sends
the values as one array literal, dumped in C. The result is the same as ``__in``: values
are prepared by the field (model instances become their keys on a foreign key), ``None``
never matches, an empty list matches nothing. On other databases ``__any`` is ``__in``.
Registered for every field and single-column relation when ``cxhub.models`` is imported.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field, ForeignObject
from django.db.models.expressions import ColPairs  # type: ignore[attr-defined]  # stubs lag 5.2
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


class _ArrayParameter:
    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lookup: Any = self
        if not lookup.rhs_is_direct_value() or isinstance(lookup.lhs, ColPairs):
            return lookup.as_sql(compiler, connection)  # a subquery, or a multi-column key
        lhs_sql, lhs_params = lookup.process_lhs(compiler, connection)
        _, values = lookup.process_rhs(compiler, connection)
        return f"{lhs_sql} = ANY(%s)", (*lhs_params, list(values))


@Field.register_lookup
class AnyOf(_ArrayParameter, In):
    lookup_name = "any"


@ForeignObject.register_lookup
class RelatedAnyOf(_ArrayParameter, RelatedIn):
    lookup_name = "any"
