"""``values()`` queries compiled to SQL once and re-run with new arguments.

Building a queryset and compiling it (``filter``, ``values``, joins, ``as_sql``) costs more
CPU than PostgreSQL spends answering a hot read by primary key. A :class:`PreparedValues`
builds its queryset once per *shape* — how many ids each list argument holds — with
stand-in arguments, keeps the SQL, the parameters and the column converters, and then
only substitutes the real arguments. The SQL text is stable, so psycopg prepares the
statement on each connection (``server_side_binding``) and PostgreSQL stops planning it.

Arguments are integers (ids) or sequences of them. Each stand-in is a distinct, very large
integer; if the compiled parameters do not hold every stand-in exactly as given (the
builder transformed an argument), the query is simply run through the ORM each time —
slower, never different. Rows come back exactly as ``list(queryset)`` would give them
(dicts, with Django's converters applied: decimals, JSON, time zones).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

Argument = int | Sequence[int]
_STAND_IN = 7_315_004_999_000_000_000  # far above any id, below 2**63


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (parameter index, flat argument index)
    names: tuple[str, ...]
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]


def _shape(args: Sequence[Argument]) -> tuple[int | None, ...]:
    return tuple(None if isinstance(arg, int) else len(arg) for arg in args)


def _stand_ins(shape: tuple[int | None, ...]) -> list[Argument]:
    counter = iter(range(_STAND_IN, _STAND_IN + 10_000))
    return [
        next(counter) if size is None else [next(counter) for _ in range(size)] for size in shape
    ]


def _flat(args: Sequence[Argument]) -> list[int]:
    return [value for arg in args for value in ([arg] if isinstance(arg, int) else arg)]


class PreparedValues:
    """``PreparedValues(build)``; ``.rows(*args)`` is ``list(build(*args))``, built and
    compiled once per shape of ``args``. ``build`` must return a ``values()`` queryset
    and use its arguments only as query parameters."""

    def __init__(
        self,
        build: Callable[..., QuerySet[Any, Any]],
        *,
        using: str = DEFAULT_DB_ALIAS,
    ) -> None:
        self._build = build
        self._using = using
        self._compiled: dict[tuple[Any, ...], _Compiled | None] = {}
        self._lock = threading.Lock()

    def rows(self, *args: Argument) -> list[dict[str, Any]]:
        connection = connections[self._using]
        key = (connection.vendor, connection.settings_dict["NAME"], _shape(args))
        if key not in self._compiled:
            with self._lock:
                if key not in self._compiled:
                    self._compiled[key] = self._compile(_shape(args))
        compiled = self._compiled[key]
        if compiled is None:
            return list(self._build(*args))
        values = _flat(args)
        params = list(compiled.params)
        for position, index in compiled.slots:
            params[position] = values[index]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            raw = cursor.fetchall()
        return [self._row(compiled, row, connection) for row in raw]

    @staticmethod
    def _row(compiled: _Compiled, row: tuple[Any, ...], connection: Any) -> dict[str, Any]:
        values = list(row)
        for position, functions, expression in compiled.converters:
            value = values[position]
            for convert in functions:
                value = convert(value, expression, connection)
            values[position] = value
        return dict(zip(compiled.names, values, strict=True))

    def _compile(self, shape: tuple[int | None, ...]) -> _Compiled | None:
        stand_ins = _stand_ins(shape)
        queryset = self._build(*stand_ins)
        query = queryset.query
        compiler = query.get_compiler(using=self._using)
        sql, params = compiler.as_sql()
        if not sql:  # an empty IN list and the like: nothing to prepare
            return None
        expected = {value: index for index, value in enumerate(_flat(stand_ins))}
        slots = tuple(
            (position, expected[param])
            for position, param in enumerate(params)
            if isinstance(param, int) and param in expected
        )
        if {index for _, index in slots} != set(expected.values()) or any(
            str(value) in sql for value in expected
        ):
            return None
        fields = [select[0] for select in compiler.select[0 : compiler.col_count]]
        converters = compiler.get_converters(fields)
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
        if len(names) != len(fields):
            return None
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            names=tuple(names),
            converters=tuple(
                (position, tuple(functions), expression)
                for position, (functions, expression) in converters.items()
            ),
        )
