"""Plain SQL for the few hot writes where the ORM's per-object work costs more than the query.

The event writer commits every chat event, usage record and meter increment; ``bulk_create``
and ``QuerySet.update`` spend more time building SQL than the database spends running it. These
helpers take column names from the model (identifiers are quoted, never interpolated from
input) and pass every value as a parameter. They work on PostgreSQL and SQLite >= 3.35
(``RETURNING``, ``ON CONFLICT``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, models

# psycopg parses a statement's ``%s`` placeholders once and caches the result only for statements
# of at most 50 parameters (``MAX_CACHED_STATEMENT_PARAMS``). A batch INSERT of 24 chat events has
# 192: psycopg split it with a regular expression and quoted every value into its text on every
# execute, about a millisecond of Python per statement on the writer's thread. Bigger statements
# go to a psycopg ``RawCursor`` instead: PostgreSQL's own ``$n`` placeholders, numbered once per
# statement shape, and the values sent apart from the text (server-side binding).
RAW_CURSOR_ABOVE_PARAMETERS = 50
_PLACEHOLDER = re.compile(r"%s|%%")


def execute(sql: str, params: Sequence[Any]) -> Any:
    """A cursor that ran ``sql`` (``%s`` placeholders) with ``params``; the caller fetches and closes it.

    Django's cursor wrapper (query logging, error translation) wraps either kind of cursor.
    """
    if connection.vendor == "postgresql" and len(params) > RAW_CURSOR_ABOVE_PARAMETERS:
        import psycopg

        connection.ensure_connection()
        connection.validate_thread_sharing()
        raw = psycopg.RawCursor(connection.connection)
        cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
        cursor.execute(_numbered(sql), params)
        return cursor
    cursor = connection.cursor()
    cursor.execute(sql, params)
    return cursor


@functools.lru_cache(maxsize=1024)
def _numbered(sql: str) -> str:
    """``sql`` with PostgreSQL's ``$1, $2, ...`` for its ``%s`` (and ``%`` for ``%%``).

    Batches of every size from one row to hundreds each have their own statement, hence the
    cache's size and a split rather than a regular expression when no ``%%`` needs care.
    """
    if "%%" not in sql:
        parts = sql.split("%s")
        return parts[0] + "".join(f"${index}{part}" for index, part in enumerate(parts[1:], start=1))
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql)


def _placeholders(model: type[models.Model], columns: Sequence[str]) -> str:
    """``%s`` per column, cast to ``jsonb`` where PostgreSQL stores JSON."""
    json_columns = {field.column for field in model._meta.concrete_fields if isinstance(field, models.JSONField)}
    cast = connection.vendor == "postgresql"
    return "(" + ", ".join("%s::jsonb" if cast and column in json_columns else "%s" for column in columns) + ")"


def _adapted(values: Iterable[Any]) -> list[Any]:
    """The values as the current connection stores them: datetimes through its backend, dicts and lists as JSON.

    The backend is looked up at most once per call, at the first date-time: ``connection`` is a
    per-thread proxy, and resolving it for every value of a batch cost more than adapting the value.
    """
    adapt_datetime = None
    adapted = []
    for value in values:
        if isinstance(value, datetime):
            adapt_datetime = adapt_datetime or _datetime_adapter()
            value = adapt_datetime(value)
        elif isinstance(value, (dict, list)):
            value = json.dumps(value)
        adapted.append(value)
    return adapted


def _datetime_adapter() -> Callable[[datetime], Any]:
    """The backend's ``adapt_datetimefield_value``; on SQLite with ``USE_TZ`` its two steps without the
    lookups around them (an aware value in the connection's zone, naive, as text)."""
    if connection.vendor != "sqlite" or not settings.USE_TZ:
        return connection.ops.adapt_datetimefield_value
    zone = connection.timezone

    def adapt(value: datetime) -> str:
        if value.tzinfo is zone:  # timezone.now() in the connection's zone (UTC): no conversion
            return str(value.replace(tzinfo=None))
        if value.utcoffset() is not None:
            value = value.astimezone(zone).replace(tzinfo=None)
        return str(value)

    return adapt


@functools.lru_cache(maxsize=256)
def _positions_to_adapt(model: type[models.Model], columns: tuple[str, ...]) -> tuple[int, ...]:
    """Positions of ``columns`` whose values :func:`_adapted` may change: date-times, JSON, and any
    column the model does not know (adapted as before, to be safe). Other values pass as they are."""
    fields = {field.column: field for field in model._meta.concrete_fields}
    return tuple(index for index, column in enumerate(columns)
                 if not isinstance(fields.get(column), models.Field)
                 or isinstance(fields[column], (models.DateTimeField, models.JSONField)))


def _adapted_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[Any]:
    """The rows' values in one flat list, adapted as :func:`_adapted` does, but only in the columns
    that need it (a chat event has one date-time in eight columns: checking all eight cost more)."""
    positions = _positions_to_adapt(model, tuple(columns))
    if not positions:
        return [value for row in rows for value in row]
    adapt_datetime = _datetime_adapter()
    flat: list[Any] = []
    for row in rows:
        values = list(row)
        for index in positions:
            value = values[index]
            if isinstance(value, datetime):
                values[index] = adapt_datetime(value)
            elif isinstance(value, (dict, list)):
                values[index] = json.dumps(value)
        flat.extend(values)
    return flat


def _insert_sql(model: type[models.Model], columns: Sequence[str], rows: int, conflict: str | None) -> str:
    return _cached_insert_sql(connection.vendor, model, tuple(columns), rows, conflict)


@functools.lru_cache(maxsize=512)
def _cached_insert_sql(vendor: str, model: type[models.Model], columns: tuple[str, ...], rows: int,
                       conflict: str | None) -> str:
    """:func:`_insert_sql` per database vendor (the statements of a busy writer repeat: build each once)."""
    quote = connection.ops.quote_name
    values = ", ".join([_placeholders(model, columns)] * rows)
    names = ", ".join(quote(column) for column in columns)
    # Identifiers come from the model and the caller's constants; values are parameters.
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES {values}"  # noqa: S608
    if conflict is not None:
        sql += f" ON CONFLICT ({quote(conflict)}) DO NOTHING"
    return sql


# Rows per multi-row statement on PostgreSQL (its limit is 65,535 parameters per statement).
MULTI_ROW_INSERT = 1000
# Parameters per statement on SQLite: 999 is the lowest limit of any build (3.32+ allow 32,766).
SQLITE_MAX_PARAMETERS = 999


def _rows_per_statement(width: int) -> int:
    """How many rows of ``width`` parameters one statement may carry on this connection."""
    if connection.vendor == "postgresql":
        return MULTI_ROW_INSERT
    return max(1, SQLITE_MAX_PARAMETERS // max(1, width))


def insert_many(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                skip_conflicts_on: str | None = None) -> None:
    """INSERT of ``rows`` (datetimes and JSON adapted); duplicates of a unique column skipped.

    One multi-row ``INSERT`` per :func:`_rows_per_statement` rows. On PostgreSQL ``executemany``
    in a pipeline sends, and the server parses, one statement per row. On SQLite it steps once per
    row, and every step gives up the GIL: the writer's thread then waits for the GIL again behind
    the busy event loop, up to a switch interval per row (a batch of 358 events took 57 ms).
    """
    if not rows:
        return
    per_statement = _rows_per_statement(len(columns))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        sql = _insert_sql(model, columns, len(chunk), skip_conflicts_on)
        execute(sql, _adapted_rows(model, columns, chunk)).close()


def insert_returning(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                     skip_conflicts_on: str, returning: str) -> list[Any]:
    """One multi-row INSERT that skips duplicates of ``skip_conflicts_on`` and returns ``returning`` of new rows."""
    if not rows:
        return []
    sql = _insert_sql(model, columns, len(rows), skip_conflicts_on)
    sql += f" RETURNING {connection.ops.quote_name(returning)}"
    with execute(sql, _adapted_rows(model, columns, rows)) as cursor:
        return [row[0] for row in cursor.fetchall()]


def _floored(expression: str) -> str:
    """``expression`` but never below zero (``GREATEST`` on PostgreSQL, scalar ``MAX`` on SQLite)."""
    return f"GREATEST({expression}, 0)" if connection.vendor == "postgresql" else f"MAX({expression}, 0)"


def add_returning(model: type[models.Model], column: str, amount: int, where: dict[str, Any],
                  also_set: dict[str, Any] | None = None, release: dict[str, int] | None = None) -> int | None:
    """``column += amount`` on the row matching ``where`` and return the new value (None: no such row).

    One ``UPDATE ... RETURNING``: the row lock serializes concurrent writers like an ``F()``
    update, without a second read. ``release`` subtracts from other columns, never below zero
    (a meter's reservations, settled by the usage they were made for).
    """
    quote = connection.ops.quote_name
    assignments = [f"{quote(column)} = {quote(column)} + %s"]
    assignments += [f"{quote(name)} = {_floored(f'{quote(name)} - %s')}" for name in release or {}]
    assignments += [f"{quote(name)} = %s" for name in also_set or {}]
    conditions = " AND ".join(f"{quote(name)} = %s" for name in where)
    # Identifiers come from the model and the caller's constants; values are parameters.
    sql = (f"UPDATE {quote(model._meta.db_table)} SET {', '.join(assignments)} "  # noqa: S608
           f"WHERE {conditions} RETURNING {quote(column)}")
    params = [amount, *(release or {}).values(), *_adapted([*(also_set or {}).values(), *where.values()])]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def add_within_cap(model: type[models.Model], column: str, amount: int, where: dict[str, Any], *,
                   cap_columns: Sequence[str], cap: int, also_set: dict[str, Any] | None = None
                   ) -> tuple[int, ...] | None:
    """``column += amount`` on the row at ``where`` only while ``sum(cap_columns) + amount <= cap``.

    Returns the new values of ``cap_columns``, or None when the row is missing or the addition
    would pass the cap. One conditional ``UPDATE``: on PostgreSQL a concurrent writer of the same
    row waits for its lock and then re-checks the condition against the row as committed (READ
    COMMITTED re-evaluates the ``WHERE`` of an updated row), so two admissions can never both pass
    the cap and no transaction or second round trip is needed; SQLite serializes writers.
    """
    quote = connection.ops.quote_name
    assignments = [f"{quote(column)} = {quote(column)} + %s"] + [f"{quote(name)} = %s" for name in also_set or {}]
    conditions = [f"{quote(name)} = %s" for name in where]
    conditions.append(" + ".join(quote(name) for name in cap_columns) + " + %s <= %s")
    # Identifiers come from the model and the caller's constants; values are parameters.
    sql = (f"UPDATE {quote(model._meta.db_table)} SET {', '.join(assignments)} "  # noqa: S608
           f"WHERE {' AND '.join(conditions)} RETURNING {', '.join(quote(name) for name in cap_columns)}")
    params = [amount, *_adapted([*(also_set or {}).values(), *where.values()]), amount, cap]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else tuple(row)


def _set_clause(model: type[models.Model], names: Sequence[str]) -> str:
    """``<column> = %s, ...`` for the named fields (JSON cast on PostgreSQL)."""
    quote = connection.ops.quote_name
    cast = connection.vendor == "postgresql"
    assignments = []
    for name in names:
        field = model._meta.get_field(name)
        json_value = cast and isinstance(field, models.JSONField)
        assignments.append(f"{quote(field.column)} = %s" + ("::jsonb" if json_value else ""))
    return ", ".join(assignments)


def _set_params(model: type[models.Model], values: dict[str, Any]) -> list[Any]:
    """The parameters of :func:`_set_clause`: any JSON value (strings included) as the ORM stores it."""
    return _set_rows(model, tuple(values), [values])[0]


def _set_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """:func:`_set_params` of many rows with the same field ``names`` (fields looked up, values adapted, once)."""
    fields = [model._meta.get_field(name) for name in names]
    encoders = [field.encoder if isinstance(field, models.JSONField) else None for field in fields]
    is_json = [isinstance(field, models.JSONField) for field in fields]
    plain = iter(_adapted(value for row in rows for value, json_value in zip(row.values(), is_json, strict=True)
                          if not json_value))
    params = []
    for row in rows:
        params.append([
            (None if value is None else json.dumps(value, cls=encoder)) if json_value else next(plain)
            for value, json_value, encoder in zip(row.values(), is_json, encoders, strict=True)
        ])
    return params


def _update_sql(model: type[models.Model], names: Sequence[str], where: str) -> str:
    # Identifiers come from the model; values are parameters.
    return f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET {_set_clause(model, names)} WHERE {where}"  # noqa: S608


def _pk_condition(model: type[models.Model]) -> str:
    return f"{connection.ops.quote_name(model._meta.pk.column)} = %s"


def update_by_pk(model: type[models.Model], pk: Any, values: dict[str, Any]) -> int:
    """``UPDATE ... SET <field> = %s, ... WHERE pk = %s`` by field name (JSON cast on PostgreSQL); rows changed."""
    if not values:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(model, list(values), _pk_condition(model)), [*_set_params(model, values), pk])
        return int(cursor.rowcount)


@dataclass(frozen=True)
class Guard:
    """A condition on the rows :func:`update_many_by_pk` changes: a row whose ``field`` no longer holds
    the expected value makes the whole statement fail instead of being changed.

    The statement sets ``tripped`` (a NOT NULL field every update assigns) to NULL for such a row,
    so the database refuses it with an integrity error and the transaction rolls back: the check
    costs nothing more than the update, and on PostgreSQL it works inside a pipelined transaction,
    where nothing can be read before ``COMMIT``.
    """

    field: str
    expected: dict[Any, Any]  # primary key -> value; rows not named here are not guarded
    tripped: str


def update_many_by_pk(model: type[models.Model], updates: dict[Any, dict[str, Any]], *,
                      guard: Guard | None = None) -> None:
    """:func:`update_by_pk` for many rows, rows in primary-key order so concurrent writers lock alike.

    One ``UPDATE ... FROM (VALUES ...)`` per set of field names (chunked like :func:`insert_many`):
    the server parses one statement, not one per row, and SQLite steps once. With a ``guard``, rows
    it names are changed only while they still hold its expected value (see :class:`Guard`).
    """
    expected = guard.expected if guard is not None else {}
    groups: dict[tuple[tuple[str, ...], bool], tuple[list[dict[str, Any]], list[Any]]] = {}
    for pk in sorted(updates):
        values = updates[pk]
        if values:
            guarded = pk in expected
            if guarded and guard is not None and guard.tripped not in values:
                raise ValueError(f"a guarded row needs a value for {guard.tripped!r}, the field that trips the guard")
            members, pks = groups.setdefault((tuple(values), guarded), ([], []))
            members.append(values)
            pks.append(pk)
    for (names, guarded), (members, pks) in groups.items():
        rows = [[*params, *([expected[pk]] if guarded else []), pk]
                for params, pk in zip(_set_rows(model, names, members), pks, strict=True)]
        guarding = (guard.field, guard.tripped) if guarded and guard is not None else None
        per_statement = _rows_per_statement(len(rows[0]))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            sql = _update_from_values_sql(connection.vendor, model, names, len(chunk), guarding)
            execute(sql, [value for row in chunk for value in row]).close()


@functools.lru_cache(maxsize=256)
def _update_from_values_sql(vendor: str, model: type[models.Model], names: tuple[str, ...], rows: int,
                            guard: tuple[str, str] | None = None) -> str:
    """``UPDATE t SET f = v.f, ... FROM (VALUES (...), ...) AS v WHERE t.pk = v.pk``.

    PostgreSQL names the value columns (``AS v(f, ..., pk)``) and gets every value cast to its
    column's type (a NULL in the first row must not make a column text); SQLite (3.33+) calls them
    ``column1``, ``column2``, ... and stores values by the column's affinity. With a ``guard``
    (guarded field, tripped field) each row carries the guarded field's expected value before its
    key, and the tripped field becomes ``CASE WHEN t.guarded = v.expected THEN v.tripped END``.
    Built once per shape and ``vendor`` (every batch updates its chats' rows).
    """
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    value_fields = [*fields, *([model._meta.get_field(guard[0])] if guard is not None else [])]
    pk = model._meta.pk
    table = quote(model._meta.db_table)
    if vendor == "postgresql":
        types = [field.db_type(connection) for field in value_fields] + [pk.rel_db_type(connection)]
        row = "(" + ", ".join(f"%s::{db_type}" for db_type in types) + ")"
        aliases = [quote(field.column) for field in fields]
        aliases += [quote("__expected")] if guard is not None else []
        aliases += [quote("__pk")]
        values = f"(VALUES {', '.join([row] * rows)}) AS v({', '.join(aliases)})"
    else:
        row = "(" + ", ".join(["%s"] * (len(value_fields) + 1)) + ")"
        aliases = [f"column{index}" for index in range(1, len(value_fields) + 2)]
        values = f"(VALUES {', '.join([row] * rows)}) AS v"
    assignments = []
    for field, alias in zip(fields, aliases, strict=False):
        value = f"v.{alias}"
        if guard is not None and field.name == guard[1]:
            guarded = quote(model._meta.get_field(guard[0]).column)
            value = f"CASE WHEN {table}.{guarded} = v.{aliases[-2]} THEN {value} END"
        assignments.append(f"{quote(field.column)} = {value}")
    # Identifiers and types come from the model; values are parameters.
    return (f"UPDATE {table} SET {', '.join(assignments)} FROM {values} "  # noqa: S608
            f"WHERE {table}.{quote(pk.column)} = v.{aliases[-1]}")


def update_where(model: type[models.Model], values: dict[str, Any], where: dict[str, Any]) -> int:
    """``UPDATE ... SET <field> = %s ... WHERE <field> = %s AND ...`` by field name; rows changed.

    A ``None`` in ``where`` means ``IS NULL``. For a hot conditional update (an answer accepted
    at most once) where building the ORM query cost more than running it: the statement is built
    once per shape, and the values are adapted in one pass.
    """
    shape = tuple((name, value is None) for name, value in where.items())
    sql = _cached_update_where_sql(connection.vendor, model, tuple(values), shape)
    params = [*_set_params(model, values), *_adapted([value for value in where.values() if value is not None])]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


@functools.lru_cache(maxsize=128)
def _cached_update_where_sql(vendor: str, model: type[models.Model], names: tuple[str, ...],
                             shape: tuple[tuple[str, bool], ...]) -> str:
    """:func:`update_where`'s statement for fields ``names`` and ``(field, is null)`` conditions."""
    quote = connection.ops.quote_name
    conditions = []
    for name, is_null in shape:
        column = quote(model._meta.get_field(name).column)
        conditions.append(f"{column} IS NULL" if is_null else f"{column} = %s")
    return _update_sql(model, names, " AND ".join(conditions))


def ledger_and_counter_sql(ledger: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                           skip_conflicts_on: str, amount: str, counter: type[models.Model], key: dict[str, Any],
                           total: str, also_set: dict[str, Any], release: str = "") -> tuple[str, list[Any]]:
    """One PostgreSQL statement: insert ``rows`` into ``ledger`` (duplicates of ``skip_conflicts_on``
    skipped) and add the new rows' ``amount`` to ``total`` of the ``counter`` row at ``key``
    (created at need); with ``release``, the new rows' ``release`` column is subtracted from the
    counter's column of that name (settled reservations). It returns one row: the new total and
    how many ledger rows were new.

    A data-modifying ``WITH`` (PostgreSQL only): unlike :func:`insert_returning` followed by
    :func:`add_returning` nothing has to be read between the two, so a pipelined transaction can
    send it together with its ``COMMIT`` and the counter row stays locked for the server's commit
    only.
    """
    quote = connection.ops.quote_name
    returned = [quote(amount), *([quote(release)] if release else [])]
    insert = f"{_insert_sql(ledger, columns, len(rows), skip_conflicts_on)} RETURNING {', '.join(returned)}"
    table = quote(counter._meta.db_table)
    names = [*key, total, *([release] if release else []), *also_set]
    selected = ["%s"] * len(key) + [f"COALESCE(SUM({quote(amount)}), 0)"]
    if release:  # a new counter row holds no reservation; an existing one releases the new rows' sum
        selected.append("0")
    selected += ["%s"] * len(also_set)
    updates = [f"{quote(total)} = {table}.{quote(total)} + EXCLUDED.{quote(total)}"]
    if release:
        # Identifiers come from the models and the caller's constants; values are parameters.
        updates.append(f"{quote(release)} = GREATEST({table}.{quote(release)} - "  # noqa: S608
                       f"(SELECT COALESCE(SUM({quote(release)}), 0) FROM new_rows), 0)")
    updates += [f"{quote(name)} = EXCLUDED.{quote(name)}" for name in also_set]
    # Identifiers come from the models and the caller's constants; values are parameters.
    sql = (f"WITH new_rows AS ({insert}) INSERT INTO {table} ({', '.join(quote(name) for name in names)}) "  # noqa: S608
           f"SELECT {', '.join(selected)} FROM new_rows ON CONFLICT ({', '.join(quote(name) for name in key)}) "
           f"DO UPDATE SET {', '.join(updates)} RETURNING {quote(total)}, (SELECT count(*) FROM new_rows)")
    params = _adapted([*(value for row in rows for value in row), *key.values(), *also_set.values()])
    return sql, params
