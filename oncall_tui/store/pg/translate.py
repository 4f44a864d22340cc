"""The store's SQLite statements as PostgreSQL runs them, translated once per statement text.

The store speaks one dialect, SQLite's; on PostgreSQL each statement is translated the first
time it is issued (sqlglot, plus the rewrites below where SQLite means something sqlglot does
not carry over) and the translation is cached by its text. Parameters become ``$1..$n`` for
psycopg's raw cursors, so a ``%`` in the SQL needs no escaping.

What is rewritten, and why:

- ``INSERT OR IGNORE`` / ``INSERT OR REPLACE``: ``ON CONFLICT DO NOTHING`` / ``ON CONFLICT
  (primary key) DO UPDATE`` of every inserted column (the primary keys are known, see
  :data:`PRIMARY_KEYS`);
- ``ON CONFLICT (col)``: sqlglot carries SQLite's null ordering into the conflict target, which
  PostgreSQL refuses there;
- ``x = y COLLATE NOCASE``: ``lower(x) = lower(y)``; ``LIKE`` is ``ILIKE`` (SQLite's ignores
  case);
- ``json_extract``: typed as SQLite's result would be where it stands (see ``_json_value``);
  ``json_each`` over a column: the array's items; ``x IN (SELECT value FROM json_each(?))``:
  ``x = ANY($n)``, the JSON list bound as an array (index-friendly, of the column's type);
- ``ORDER BY``: nulls first ascending as on SQLite, except on columns never null and in
  indexes (PostgreSQL's own order, so that an index serves the sort);
- DDL: integers are ``bigint`` (``seq`` and ids outlive 2**31 in a long-lived team journal),
  text sorts byte-wise (``COLLATE "C"``, SQLite's ``BINARY``) whatever the database's locale,
  ``WITHOUT ROWID`` has no counterpart and is dropped;
- an ``INSERT`` into a table whose key the database generates returns it (``lastrowid``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.dialects.sqlite import SQLite

_SQLITE = SQLite()

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "journal": ("seq",),
    "deliveries": ("id",),
    "incidents": ("id",),
    "signals": ("id",),
    "alerts": ("alert_key",),
    "change_links": ("incident_id", "signal_id"),
    "catalog": ("name",),
    "sessions": ("id",),
    "pushes": ("id",),
    "notes": ("id",),
    "meta": ("key",),
    "refusals": ("minute", "source", "http_status"),
    "guard_decisions": ("session_id", "incident_id", "tool", "paths", "decision"),
    "guard_allowances": ("session_id", "path_glob"),
    "commits": ("sha",),
    "deploy_ranges": ("signal_id",),
    "agent_tokens": ("name",),
}
"""Each table's primary key, the conflict target of its ``INSERT OR REPLACE`` (a test holds
this in agreement with the migrated schema)."""

NOT_NULL_COLUMNS = frozenset(
    {"seq", "id", "number", "ts", "severity_rank", "opened_at", "occurred_at", "proposed_at"}
)
"""Column names that are ``NOT NULL`` in every table that has them (a test holds this to the
schema): sorting on them needs no null ordering."""

GENERATED_KEYS = {"deliveries": "id"}
"""Tables whose key the database assigns (``AUTOINCREMENT``): an insert returns it."""

OVERRIDES: dict[str, str] = {
    # The journal's high-water mark. SQLite keeps AUTOINCREMENT's counter apart because a
    # deleted row's seq must not come back; the journal is append-only, and the writer reads
    # this holding the store's write lock, so the highest row is the counter.
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'journal'), 0),"
    " coalesce((SELECT max(seq) FROM journal), 0))": "SELECT coalesce(max(seq), 0) FROM journal",
}
"""Statements translated by hand, by their exact SQLite text."""


class UntranslatableError(ValueError):
    """A statement the translation cannot carry over faithfully."""


@dataclass(frozen=True)
class Translated:
    sql: str
    returns_key: bool
    """The statement ends in ``RETURNING`` the generated key (see :data:`GENERATED_KEYS`)."""
    json_lists: frozenset[int] = frozenset()
    """Positions (from 0) of parameters that are JSON arrays in SQLite's statement and arrays
    in PostgreSQL's (``x IN (SELECT value FROM json_each(?))`` → ``x = ANY($n)``): the
    caller decodes them, so they bind as arrays of the column's own type."""
    names: tuple[str, ...] = ()
    """For SQLite's named parameters (``:since``): the name bound as each ``$n``, in order."""
    typed_by_parameters: bool = False
    """It reads JSON values, whose type may depend on the parameters' (see :func:`translate`)."""
    writes_only: bool = False
    """An ``INSERT``, ``UPDATE`` or ``DELETE`` that returns no rows: nothing of its answer but
    the row count, so the connection may send it ahead of the next statement (see
    :class:`~oncall_tui.store.pg.connection.PgConnection`)."""
    one_row: tuple[str, str, int] | None = None
    """For an ``INSERT`` of one row of parameters (``VALUES ($1, ..., $n)``, no others): the
    text before and after that row, and ``n``, for several rows in one statement
    (:func:`~oncall_tui.store.pg.pipelined.many_rows`)."""
    distinct_on: tuple[int, ...] = ()
    """For such an ``INSERT ... ON CONFLICT ... DO UPDATE``: the positions of its conflict
    target, on which the rows of one statement must differ (PostgreSQL refuses to update a row
    twice in one statement)."""


@functools.lru_cache(maxsize=4096)
def translate(sql: str, numeric: frozenset[int] = frozenset()) -> Translated:
    """``sql`` (one SQLite statement, ``?`` or ``:name`` parameters) as one PostgreSQL
    statement.

    ``numeric``: positions of the parameters bound to numbers, for a statement that compares
    JSON values with them (:attr:`Translated.typed_by_parameters`): SQLite's ``json_extract``
    gives a number there, PostgreSQL's text must be cast to one.
    """
    override = OVERRIDES.get(sql)
    if override is not None:
        return Translated(override, False)
    named, placeholders, names = _name_parameters(sql)
    tree = sqlglot.parse_one(named, read="sqlite")
    json_lists: set[int] = set()
    tree = tree.transform(_rewrite, json_lists)
    typed = any(True for _ in tree.find_all(exp.JSONExtract, exp.JSONExtractScalar))
    tree = tree.transform(_json_value, numeric)
    returns_key = False
    if isinstance(tree, exp.Insert) and tree.args.get("returning") is None:
        key = GENERATED_KEYS.get(_table_name(tree))
        if key is not None:
            tree.set("returning", exp.Returning(expressions=[exp.column(key)]))
            returns_key = True
    writes_only = (
        isinstance(tree, exp.Insert | exp.Update | exp.Delete)
        and tree.args.get("returning") is None
    )
    tree = _number_parameters(tree)
    text = tree.sql(dialect="postgres", identify=True)
    if sum(1 for _ in tree.find_all(exp.Parameter)) != placeholders:
        raise UntranslatableError(f"parameters lost translating {sql!r}")
    one_row, distinct_on = _one_row(tree, text, placeholders) if writes_only else (None, ())
    return Translated(
        text, returns_key, frozenset(json_lists), names, typed, writes_only, one_row, distinct_on
    )


def _one_row(
    tree: exp.Expression, text: str, placeholders: int
) -> tuple[tuple[str, str, int] | None, tuple[int, ...]]:
    """:attr:`Translated.one_row` and :attr:`Translated.distinct_on` of a translation."""
    values = tree.expression if isinstance(tree, exp.Insert) else None
    if not isinstance(values, exp.Values) or len(values.expressions) != 1:
        return None, ()
    row = "(" + ", ".join(f"${i}" for i in range(1, placeholders + 1)) + ")"
    if values.expressions[0].sql(dialect="postgres") != row or text.count(row) != 1:
        return None, ()
    before, after = text.split(row)
    one_row = (before, after, placeholders)
    conflict = tree.args.get("conflict")
    if not isinstance(conflict, exp.OnConflict) or "UPDATE" not in str(conflict.args.get("action")):
        return one_row, ()
    schema = tree.this
    columns = [c.name for c in schema.expressions] if isinstance(schema, exp.Schema) else []
    keys = [k.name for k in conflict.args.get("conflict_keys") or []]
    if not keys or any(k not in columns for k in keys):
        return None, ()  # rows that may meet on an unknown target go one by one
    return one_row, tuple(columns.index(k) for k in keys)


def _rewrite(node: exp.Expression, json_lists: set[int]) -> exp.Expression:
    if isinstance(node, exp.In):
        parameter = _json_each_parameter(node)
        if parameter is not None:
            json_lists.add(int(str(parameter.this)[1:]) - 1)
            return exp.EQ(this=node.this, expression=exp.Any(this=exp.Paren(this=parameter)))
    if isinstance(node, exp.Insert) and node.args.get("alternative"):
        return _insert_or(node)
    if isinstance(node, exp.OnConflict):
        keys = node.args.get("conflict_keys") or []
        node.set("conflict_keys", [k.this if isinstance(k, exp.Ordered) else k for k in keys])
        return node
    if isinstance(node, exp.Like):
        return exp.ILike(this=node.this, expression=node.expression)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "json_each":
        return _json_each(node)
    if isinstance(node, exp.EQ) and _nocase(node.expression):
        return exp.EQ(
            this=exp.Lower(this=node.this), expression=exp.Lower(this=node.expression.this)
        )
    if isinstance(node, exp.Ordered) and _plain_order(node):
        # PostgreSQL's default (nulls last ascending, first descending), its indexes' order.
        node.set("nulls_first", bool(node.args.get("desc")))
        return node
    if isinstance(node, exp.ColumnDef):
        return _column_def(node)
    if isinstance(node, exp.Properties):
        kept = [p for p in node.expressions if not isinstance(p, exp.WithoutRowidProperty)]
        node.set("expressions", kept)
        return node
    return node


def _json_value(node: exp.Expression, numeric: frozenset[int]) -> exp.Expression:
    """SQLite's ``json_extract``, whose result takes the JSON value's own type, as PostgreSQL's
    typed equivalent for where it stands: the ``jsonb`` value itself as a result column (the
    connection loads it as SQLite would give it), a number where it meets a number, else
    text."""
    if not isinstance(node, exp.JSONExtract | exp.JSONExtractScalar):
        return node
    document = exp.Cast(this=node.this, to=exp.DataType.build("jsonb"))
    path = node.expression
    keys = _path_keys(path)
    value: exp.Expression
    if keys is not None:
        literal = exp.Literal.string("{" + ",".join(keys) + "}")
        value = exp.JSONBExtract(this=document, expression=literal)
        text: exp.Expression = exp.JSONBExtractScalar(this=document, expression=literal)
    else:
        if isinstance(path, exp.JSONPath):
            path = exp.Literal.string(path.sql(dialect="sqlite").strip("'"))
        jsonpath = exp.DataType.build("jsonpath", dialect="postgres", udt=True)
        value = exp.Anonymous(
            this="jsonb_path_query_first",
            expressions=[document, exp.Cast(this=path, to=jsonpath)],
        )
        text = exp.JSONBExtractScalar(this=value.copy(), expression=exp.Literal.string("{}"))
    parent = node.parent
    if isinstance(parent, exp.Alias):
        parent = parent.parent
    if isinstance(parent, exp.Select) and any(
        e is node or e is node.parent for e in parent.expressions
    ):
        return value
    if _meets_a_number(node, numeric):
        return exp.Cast(this=text, to=exp.DataType.build("numeric"))
    if isinstance(parent, exp.And | exp.Or | exp.Not | exp.Where | exp.Having):
        return _truth(value, text)
    return text


def _truth(value: exp.Expression, text: exp.Expression) -> exp.Expression:
    """A JSON value as SQLite tests it in a condition: true, or a number other than 0."""
    jsonb = exp.DataType.build("jsonb")
    is_true = exp.EQ(
        this=value.copy(), expression=exp.Cast(this=exp.Literal.string("true"), to=jsonb)
    )
    is_number = exp.EQ(
        this=exp.Anonymous(this="jsonb_typeof", expressions=[value.copy()]),
        expression=exp.Literal.string("number"),
    )
    not_zero = exp.NEQ(
        this=exp.Cast(this=text, to=exp.DataType.build("numeric")), expression=exp.Literal.number(0)
    )
    return exp.Paren(this=exp.or_(is_true, exp.and_(is_number, not_zero)))


def _path_keys(path: exp.Expression) -> list[str] | None:
    """A literal path of keys and indexes as ``#>``'s text array (``$.a[0]`` → ``a,0``)."""
    if not isinstance(path, exp.JSONPath):
        return None
    keys: list[str] = []
    for part in path.expressions:
        if isinstance(part, exp.JSONPathRoot):
            continue
        if isinstance(part, exp.JSONPathKey) and isinstance(part.this, str):
            quoted = part.this.replace("\\", "\\\\").replace('"', '\\"')
            keys.append(f'"{quoted}"')
        elif isinstance(part, exp.JSONPathSubscript) and isinstance(part.this, int):
            keys.append(str(part.this))
        else:
            return None
    return keys


def _meets_a_number(node: exp.Expression, numeric: frozenset[int]) -> bool:
    """Whether the value is compared with, computed with or defaulted to a number."""
    parent = node.parent
    if isinstance(parent, exp.Neg):
        return True
    if isinstance(parent, exp.Coalesce):
        others = [parent.this, *parent.expressions]
    elif isinstance(parent, exp.Binary | exp.Between):
        others = [v for v in parent.args.values() if isinstance(v, exp.Expression)]
    else:
        return False
    return any(_is_number(o, numeric) for o in others if o is not node)


def _is_number(node: exp.Expression, numeric: frozenset[int]) -> bool:
    while isinstance(node, exp.Any | exp.Paren | exp.Neg):
        node = node.this
    if isinstance(node, exp.Literal):
        return node.is_number
    if isinstance(node, exp.Placeholder) and str(node.this).startswith("p"):
        return int(str(node.this)[1:]) - 1 in numeric
    return isinstance(node, exp.Cast) and node.to.is_type(*exp.DataType.NUMERIC_TYPES)


_SIMPLE_PATH = re.compile(r"\$(\.[A-Za-z_]\w*)*")


def _json_each(node: exp.Anonymous) -> exp.Expression:
    """``json_each(doc[, '$.path'])`` in a FROM: the array's items, a ``value`` column each
    (the store iterates arrays of strings only)."""
    document: exp.Expression = exp.Cast(this=node.expressions[0], to=exp.DataType.build("jsonb"))
    if len(node.expressions) > 1:
        path = node.expressions[1]
        if not (isinstance(path, exp.Literal) and _SIMPLE_PATH.fullmatch(path.this)):
            raise UntranslatableError(f"json_each path {path.sql()}")
        keys = [f'"{key}"' for key in path.this.split(".")[1:]]
        if keys:
            literal = exp.Literal.string("{" + ",".join(keys) + "}")
            document = exp.JSONBExtract(this=document, expression=literal)
    return exp.Anonymous(this="jsonb_array_elements_text", expressions=[document])


def _json_each_parameter(node: exp.In) -> exp.Placeholder | None:
    """The parameter of ``x IN (SELECT value FROM json_each(?))``, SQLite's way of asking
    for a list of values in one statement."""
    query = node.args.get("query")
    select = query.this if isinstance(query, exp.Subquery) else query
    if not isinstance(select, exp.Select) or len(select.expressions) != 1:
        return None
    if select.expressions[0].name != "value" or any(
        select.args.get(clause) for clause in ("where", "joins", "group", "limit")
    ):
        return None
    source = select.args.get("from_")
    table = source.this if isinstance(source, exp.From) else None
    function = table.this if isinstance(table, exp.Table) else None
    if not isinstance(function, exp.Anonymous) or function.name.lower() != "json_each":
        return None
    (argument,) = function.expressions or [None]
    return argument if isinstance(argument, exp.Placeholder) else None


def _plain_order(node: exp.Ordered) -> bool:
    """Whether this sort needs no null ordering of SQLite's (nulls first ascending): in an
    index (PostgreSQL's default order, the one its ``ORDER BY`` can read an index in), or on a
    column that is never null (which PostgreSQL does not infer: it would sort instead)."""
    if node.find_ancestor(exp.Create) is not None:
        return True
    column = node.this
    return isinstance(column, exp.Column) and column.name in NOT_NULL_COLUMNS


def _nocase(node: exp.Expression) -> bool:
    return isinstance(node, exp.Collate) and node.expression.name.upper() == "NOCASE"


def _insert_or(node: exp.Insert) -> exp.Insert:
    alternative = str(node.args["alternative"]).upper()
    node.set("alternative", None)
    if alternative == "IGNORE":
        node.set("conflict", exp.OnConflict(action=exp.var("DO NOTHING")))
        return node
    if alternative != "REPLACE":
        raise UntranslatableError(f"INSERT OR {alternative}")
    table = _table_name(node)
    keys = PRIMARY_KEYS.get(table)
    schema = node.this
    if keys is None or not isinstance(schema, exp.Schema):
        raise UntranslatableError(f"INSERT OR REPLACE into {table} without its columns")
    columns = [c.name for c in schema.expressions]
    updates = [
        exp.EQ(this=exp.column(c), expression=exp.column(c, table="excluded"))
        for c in columns
        if c not in keys
    ]
    conflict = exp.OnConflict(
        conflict_keys=[exp.to_identifier(k) for k in keys],
        action=exp.var("DO UPDATE") if updates else exp.var("DO NOTHING"),
        expressions=updates,
    )
    node.set("conflict", conflict)
    return node


def _table_name(node: exp.Insert) -> str:
    target = node.this
    table = target.this if isinstance(target, exp.Schema) else target
    return table.name if isinstance(table, exp.Table) else ""


def _column_def(node: exp.ColumnDef) -> exp.ColumnDef:
    kind = node.args.get("kind")
    if isinstance(kind, exp.DataType):
        if kind.this in (exp.DataType.Type.INT, exp.DataType.Type.BIGINT):
            node.set("kind", exp.DataType.build("bigint"))
        elif kind.this is exp.DataType.Type.TEXT:
            constraint = exp.ColumnConstraint(
                kind=exp.CollateColumnConstraint(this=exp.to_identifier("C", quoted=True))
            )
            node.append("constraints", constraint)
    return node


def _name_parameters(sql: str) -> tuple[str, int, tuple[str, ...]]:
    """Each parameter named by its number (``:p1``, ``:p2``...): the text, how many parameters
    it has, and for named ones (``:since``) the name of each number.

    Numbered before parsing: the tree does not keep the written order (a ``LIMIT ?`` is visited
    before the ``WHERE`` it follows), and ``?`` parameters are bound in the written order.
    """
    tokens = _SQLITE.tokenize(sql)
    spans: list[tuple[int, int, str | None]] = []  # start, end, name (None for ``?``)
    for before, after in zip(tokens, [*tokens[1:], None], strict=True):
        if before.token_type is TokenType.PLACEHOLDER:
            if before.text != "?":
                raise UntranslatableError(f"parameters written {before.text!r} in {sql!r}")
            spans.append((before.start, before.end, None))
        elif (
            before.token_type is TokenType.COLON
            and after is not None
            and after.start == before.end + 1
            and after.text.isidentifier()
        ):
            spans.append((before.start, after.end, after.text))
    names: list[str] = []
    if any(name is not None for _, _, name in spans):
        if any(name is None for _, _, name in spans):
            raise UntranslatableError(f"both ? and named parameters in {sql!r}")
        names = list(dict.fromkeys(name for _, _, name in spans if name is not None))
    named = sql
    for number, (start, end, name) in reversed(list(enumerate(spans, start=1))):
        mark = names.index(name) + 1 if name is not None else number
        named = f"{named[:start]}:p{mark}{named[end + 1 :]}"
    return named, len(spans), tuple(names)


def _number_parameters(tree: exp.Expression) -> exp.Expression:
    """``:pN`` → ``$N``, PostgreSQL's own parameters (psycopg's raw cursors pass them on)."""

    def number(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and str(node.this).startswith("p"):
            return exp.Parameter(this=exp.Literal.number(int(str(node.this)[1:])))
        return node

    return tree.transform(number)
