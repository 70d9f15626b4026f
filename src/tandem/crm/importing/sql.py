"""Import bulk SQL: multi-row INSERT and UPDATE through one executemany each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connections, router
from django.db.models import CharField, Field, ForeignKey, IntegerField, Model, TextField


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    found = model._meta.get_field(name)  # a field name or its attname ("owner_id")
    if not isinstance(found, Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return found


def _prepare(
    fields: list[Any], rows: list[tuple[Any, ...]], conn: Any, times: dict[datetime, Any]
) -> list[Any]:
    """Parameters for executemany: text, whole numbers and None pass; other values are prepared
    by their field (as the ORM would), each distinct datetime once."""
    plain = (CharField, TextField, IntegerField, ForeignKey)
    prepared = [(i, f) for i, f in enumerate(fields) if not isinstance(f, plain)]
    if not prepared:
        return rows
    params = []
    for row in rows:
        values = list(row)
        for i, f in prepared:
            value = values[i]
            if type(value) is datetime:
                if value not in times:
                    times[value] = f.get_db_prep_save(value, conn)
                values[i] = times[value]
            elif value is not None:
                values[i] = f.get_db_prep_save(value, conn)
        params.append(values)
    return params


def insert_rows(
    model: type[Model],
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    times: dict[datetime, Any],
) -> None:
    """INSERT rows (tuples in the order of `columns`, attnames) with one executemany.

    bulk_create compiles every value through the SQL compiler, and on SQLite in statements of at
    most 999 parameters; for the 300,000 rows a 100,000-contact import writes, that was most of
    the run.
    """
    if not rows:
        return
    conn = connections[router.db_for_write(model)]
    fields = [_field(model, name) for name in columns]
    qn = conn.ops.quote_name
    # Table and column names come from the model, values are parameters: nothing from the file.
    names = ", ".join(qn(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    with conn.cursor() as cursor:
        cursor.executemany(sql, _prepare(fields, rows, conn, times))


def update_rows(
    model: type[Model], objs: list[Any], names: set[str], times: dict[datetime, Any]
) -> None:
    """UPDATE the named fields of each object by primary key with one executemany.

    bulk_update builds a CASE WHEN expression per object and field: re-importing a file of
    known contacts would spend minutes there.
    """
    if not objs:
        return
    conn = connections[router.db_for_write(model)]
    fields = [_field(model, name) for name in sorted(names)]
    pk = _field(model, "id")
    qn = conn.ops.quote_name
    assignments = ", ".join(f"{qn(str(f.column))} = %s" for f in fields)
    sql = f"UPDATE {qn(model._meta.db_table)} SET {assignments} WHERE {qn(str(pk.column))} = %s"  # noqa: S608
    rows = [(*(getattr(o, f.attname) for f in fields), o.pk) for o in objs]
    with conn.cursor() as cursor:
        cursor.executemany(sql, _prepare([*fields, pk], rows, conn, times))
