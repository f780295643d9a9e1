"""The answer turn's few statements, compiled once per database and run on the driver's own cursor.

Every answer runs the same three small statements (read the conversation with its answers, move it on, add the
answer). Through SQLAlchemy's Core execution each costs several times the driver's own work: the compiled-cache
lookup, parameter and result processing, result objects. Here they run on the turn's connection (in its
transaction, where it has one), with the column types' own conversions; a driver error goes through SQLAlchemy's
error handling, so a lost connection is discarded from the pool and the error is the same as anywhere else (a 503).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable


class Compiled:
    """One statement as this dialect's SQL text, with the conversions its parameters and columns need."""

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.order = compiled.positiontup  # SQLite's "?" style: the parameters' names in order (None when named)
        self.binds = {name: process for name, bind in compiled.binds.items()
                      if (process := bind.type.dialect_impl(dialect).bind_processor(dialect))}
        columns = list(getattr(statement, "selected_columns", ()))
        self.columns = [column.name for column in columns]
        self.results = [(column.name, process) for column in columns
                        if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))]

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        values = {**values, **{name: process(values[name]) for name, process in self.binds.items() if name in values}}
        return tuple(values[name] for name in self.order) if self.order is not None else values

    def rows(self, fetched: list[tuple]) -> list[dict[str, Any]]:
        rows = [dict(zip(self.columns, row)) for row in fetched]
        for row in rows:
            for name, process in self.results:
                row[name] = process(row[name])
        return rows


_COMPILED: dict[tuple[int, int], tuple[Executable, Dialect, Compiled]] = {}


def compiled(statement: Executable, dialect: Dialect) -> Compiled:
    """The statement compiled for this engine's dialect (statements are module constants, engines live as long as
    their app: each is compiled once per engine). The entry keeps both alive, so their ids are not reused."""
    key = (id(statement), id(dialect))
    entry = _COMPILED.get(key)
    if entry is None or entry[0] is not statement or entry[1] is not dialect:
        entry = _COMPILED[key] = (statement, dialect, Compiled(statement, dialect))
    return entry[2]


def execute(connection: Connection, statement: Executable, values: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Run `statement` with `values` on the connection (in its transaction, when it has one): (rows as dicts, rows
    affected)."""
    prepared = compiled(statement, connection.dialect)
    parameters = prepared.parameters(values)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(prepared.sql, parameters)
        fetched = cursor.fetchall() if cursor.description else []
        rowcount = cursor.rowcount
    except BaseException as error:
        # The statement is closed first: SQLite does not really close a connection that is discarded (a disconnect,
        # a read-only file) while one of its statements is open. Then SQLAlchemy's own handling, as for any
        # statement: the handle_error hooks, a lost or interrupted connection invalidated, the error wrapped.
        _close(cursor)
        connection._handle_dbapi_exception(error, prepared.sql, parameters, None, None)
        raise  # not reached: the line above raises
    cursor.close()
    return prepared.rows(fetched), rowcount


def _close(cursor: Any) -> None:
    try:
        cursor.close()
    except Exception:  # the connection is already gone: the error being handled is the one to report
        pass
