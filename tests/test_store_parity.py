"""One schema, really: SQLite and PostgreSQL end up with the same tables, columns, keys and indexes, and a database
upgraded from Chorus 0.1 ends up with exactly what a new one gets.

How the comparison works (`describe`, then `portable` for a comparison across backends): each database is read back
from its own catalog after `Database.open_*` migrated it, never from `schema.metadata`, so what is compared is what
the database holds. Per table: the columns in order, each with its type (exact, and its family), nullability,
server default and whether the database generates it; the primary key; unique constraints; the foreign keys; the
CHECK constraints (same backend only: each prints them its own way); and every index created on its own (not those
behind a key or a unique constraint), with its columns or expressions, ordering, uniqueness and partial WHERE. The
two backends spell things differently, so values are normalised to what they mean:
- types to families: integer/bigint → "int", real/double → "float", text → "text", jsonb and SQLite's JSON text
  → "json-or-text", boolean and SQLite's 0/1 integer → "flag", timestamps → "timestamp" (SQLite stores JSON and
  flags in plain TEXT and INTEGER columns: there, and only there, the schema's declared type tells which they are);
- defaults without quotes and casts (`'generate'::text` and `'generate'`, `false` and `0` for a flag);
- partial WHERE clauses to SQLite's spelling (`state = ANY (ARRAY['a'::text])` is `state IN ('a')`), lower case;
- a SQLite rowid alias (the sole INTEGER primary key) is never NULL, whatever PRAGMA table_info says.

Why a table or index on one backend only fails these tests: `describe` lists every table the inspector reports and
every index in the catalog (`sqlite_master`, `pg_index`), keyed by name, and `differences` reports any key found on
one side only, so an extra table, column or index, or one missing, is a difference, and so is an index whose
columns, uniqueness or WHERE changed. `test_the_comparison_catches_what_one_database_has_and_the_other_lacks` makes
exactly such changes to a real database and checks that each is reported.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.database_url import is_postgres, sqlite_path
from bot.store import schema
from bot.store.database import Database, alembic_config
from bot.store.factory import engine_url
from tests.conftest import postgres_admin_url
from tests.legacy import build_legacy, new_postgres_database

# ---- reading a database's schema back --------------------------------------------------------------------------


def describe(conn: Connection) -> dict[str, Any]:
    """Everything the tests compare about the database on `conn`, as plain values (see the module's docstring)."""
    with warnings.catch_warnings():
        # SQLite's reflection cannot read expression indexes (personas_name); `_sqlite_indexes` reads them instead.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        return _describe(conn)


def _describe(conn: Connection) -> dict[str, Any]:
    inspector = sa.inspect(conn)
    postgres = conn.dialect.name == "postgresql"
    indexes = _postgres_indexes(conn) if postgres else _sqlite_indexes(conn)
    tables: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        primary_key = list(inspector.get_pk_constraint(table)["constrained_columns"])
        generated = _postgres_generated(conn, table) if postgres else _sqlite_generated(conn, table, primary_key)
        columns: dict[str, Any] = {}
        for column in inspector.get_columns(table):
            name = column["name"]
            exact = column["type"].compile(dialect=conn.dialect).upper()
            kind = family(exact, declared_type(table, name))
            rowid = not postgres and primary_key == [name] and exact == "INTEGER"
            columns[name] = {
                "type": exact,
                "family": kind,
                "nullable": bool(column["nullable"]) and not rowid,
                "default": normal_default(column.get("default"), kind),
                "generated": generated.get(name),
            }
        tables[table] = {
            "columns": columns,
            "order": list(columns),
            "primary_key": primary_key,
            "unique": sorted(
                (tuple(unique["column_names"]), unique["name"] if postgres else None)
                for unique in inspector.get_unique_constraints(table)
            ),
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]),
                 tuple(sorted((fk.get("options") or {}).items())), fk["name"] if postgres else None)
                for fk in inspector.get_foreign_keys(table)
            ),
            # SQLite's names of CHECKs appear only in error messages (Chorus 0.1 left them unnamed).
            "checks": sorted(
                (_spaced(check["sqltext"]), check["name"] if postgres else None)
                for check in inspector.get_check_constraints(table)
            ),
            "indexes": {name: index for (on, name), index in indexes.items() if on == table},
        }
    found: dict[str, Any] = {"tables": tables}
    if postgres:
        found["sequences"] = sorted(conn.execute(sa.text(
            "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()"
        )).scalars())
    return found


def _spaced(sql: str) -> str:
    """SQL text with its whitespace as one space, none inside parentheses (Chorus 0.1 wrapped long CHECKs)."""
    return re.sub(r"\s+\)", ")", re.sub(r"\(\s+", "(", " ".join(sql.split())))


def portable(shape: dict[str, Any]) -> dict[str, Any]:
    """What must be equal across backends: families instead of types, whether (not how) ids are generated, no
    constraint names, no CHECK texts (each backend prints them its own way), no sequences."""
    tables = {}
    for name, table in shape["tables"].items():
        tables[name] = {
            "columns": {
                column: {"family": c["family"], "nullable": c["nullable"], "default": c["default"],
                         "generated": c["generated"] is not None}
                for column, c in table["columns"].items()
            },
            "order": table["order"],
            "primary_key": table["primary_key"],
            "unique": sorted(columns for columns, _ in table["unique"]),
            "foreign_keys": sorted(fk[:4] for fk in table["foreign_keys"]),
            "indexes": table["indexes"],
        }
    return {"tables": tables}


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Where two descriptions differ, one line per difference (a key on one side only is one)."""
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right), key=str):
            where = f"{path}/{key}"
            if key not in right:
                found.append(f"{where}: only on the left ({left[key]!r})")
            elif key not in left:
                found.append(f"{where}: only on the right ({right[key]!r})")
            else:
                found.extend(differences(left[key], right[key], where))
        return found
    return [] if left == right else [f"{path}: {left!r} != {right!r}"]


FAMILIES = {
    "INTEGER": "int", "BIGINT": "int", "SMALLINT": "int",
    "REAL": "float", "DOUBLE PRECISION": "float", "FLOAT": "float", "DOUBLE": "float",
    "TEXT": "text", "VARCHAR": "text", "JSONB": "json-or-text", "JSON": "json-or-text", "BOOLEAN": "flag",
    "DATETIME": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamp", "TIMESTAMP WITHOUT TIME ZONE": "timestamp",
}


def declared_type(table: str, column: str) -> sa.types.TypeEngine[Any] | None:
    """The column's type in `schema` (None for a column the schema does not have)."""
    declared = schema.metadata.tables.get(table)
    return declared.c[column].type if declared is not None and column in declared.c else None


def family(exact: str, declared: sa.types.TypeEngine[Any] | None) -> str:
    """The type's family. SQLite keeps JSON in TEXT and flags in INTEGER: there (and only there) the type the schema
    declares says which they are, so jsonb against TEXT, or boolean against INTEGER, still differs."""
    found = FAMILIES.get(re.sub(r"\(.*\)", "", exact).strip(), exact)
    if found == "text" and isinstance(declared, schema.Document):
        return "json-or-text"
    if found == "int" and exact == "INTEGER" and isinstance(declared, sa.Boolean):
        return "flag"
    return found


def normal_default(text: str | None, kind: str) -> str | None:
    """A server default as a value: no casts, no quotes; a flag's as true/false. A sequence's is not a default
    here but the column's `generated`."""
    if text is None or text.startswith("nextval("):
        return None
    value = re.sub(r"::[a-z ]+$", "", _unwrap(text.strip()))
    if len(value) >= 2 and value[0] == value[-1] == "'":
        value = value[1:-1]
    if kind == "flag":
        return {"1": "true", "0": "false"}.get(value.lower(), value.lower())
    return value


def _sqlite_generated(conn: Connection, table: str, primary_key: list[str]) -> dict[str, str]:
    """SQLite generates a rowid alias's value; AUTOINCREMENT (in the table's SQL) never hands out an id again."""
    sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table})
    if len(primary_key) == 1 and re.search(r"\bAUTOINCREMENT\b", sql.scalar_one() or "", re.IGNORECASE):
        return {primary_key[0]: "autoincrement"}
    return {}


def _postgres_generated(conn: Connection, table: str) -> dict[str, str]:
    """Columns filled by a sequence: an identity, or a default of nextval() (SERIAL), with the sequence's name."""
    rows = conn.execute(sa.text(
        "SELECT column_name, is_identity, column_default, pg_get_serial_sequence(quote_ident(table_name), column_name)"
        " FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = :t"
    ), {"t": table}).all()
    return {
        name: f"{'identity' if identity == 'YES' else 'sequence default'} {sequence}"
        for name, identity, default, sequence in rows
        if identity == "YES" or (default or "").startswith("nextval(")
    }


def _sqlite_indexes(conn: Connection) -> dict[tuple[str, str], dict[str, Any]]:
    """Indexes created on their own (those behind a key or UNIQUE have no SQL)."""
    rows = conn.execute(sa.text("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
    return dict(parse_index(sql) for _, sql in rows)


def _postgres_indexes(conn: Connection) -> dict[tuple[str, str], dict[str, Any]]:
    """Indexes created on their own (not those behind a primary key or a unique constraint)."""
    rows = conn.execute(sa.text(
        "SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x"
        " JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = current_schema()"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
    )).scalars()
    return dict(parse_index(sql) for sql in rows)


_INDEX = re.compile(
    r'CREATE (?P<unique>UNIQUE )?INDEX (?:IF NOT EXISTS )?"?(?P<name>\w+)"? ON (?:ONLY )?(?:"?\w+"?\.)?'
    r'"?(?P<table>\w+)"?(?: USING \w+)?\s*\(',
    re.IGNORECASE,
)


def parse_index(ddl: str) -> tuple[tuple[str, str], dict[str, Any]]:
    """((table, name), {columns, unique, where}) of a CREATE INDEX as either backend prints it."""
    found = _INDEX.match(ddl.strip())
    assert found is not None, ddl
    text = ddl.strip()
    start = found.end() - 1
    end = _closing(text, start)
    rest = text[end + 1 :].strip()
    assert rest == "" or rest.upper().startswith("WHERE "), ddl
    columns = [normal_expression(part) for part in _split(text[start + 1 : end])]
    where = normal_expression(rest[len("WHERE ") :]) if rest else None
    return (found["table"], found["name"]), {"columns": columns, "unique": bool(found["unique"]), "where": where}


def normal_expression(text: str) -> str:
    """An index column or WHERE clause as SQLite spells it, lower case: no casts, no quotes around names, `x IN
    (…)` for PostgreSQL's `x = ANY (ARRAY[…])`, no ASC, no redundant outer parentheses."""
    value = re.sub(r"::[a-z]+(\[\])?", "", text, flags=re.IGNORECASE)
    value = re.sub(r"(\w+) = ANY \(ARRAY\[(.*?)\]\)", r"\1 IN (\2)", value)
    value = re.sub(r'"(\w+)"', r"\1", value)
    value = " ".join(_unwrap(value).split()).lower()
    return re.sub(r" asc$", "", value)


def _closing(text: str, start: int) -> int:
    """The index of the parenthesis that closes the one at `start`."""
    depth = 0
    quoted = False
    for index in range(start, len(text)):
        char = text[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise AssertionError(f"unbalanced parentheses: {text}")


def _split(text: str) -> list[str]:
    """Split on the commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _unwrap(text: str) -> str:
    """Without parentheses that enclose the whole text."""
    text = text.strip()
    while text.startswith("(") and _closing(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    return text


# ---- opening databases -------------------------------------------------------------------------------------------


async def opened(url: str) -> Database:
    """The database at `url` (a SQLite path or a postgresql:// URL), opened as the bot opens it: migrated."""
    if is_postgres(url):
        return await Database.open_postgres(engine_url(url), max_size=2)
    return await Database.open_sqlite(sqlite_path(url))


async def shape_of(url: str, *, legacy: bool = False) -> dict[str, Any]:
    """The schema at `url` once the bot opened it: a new database, or (`legacy`) one Chorus 0.1 made first."""
    if legacy:
        await build_legacy(url)
    database = await opened(url)
    try:
        async with database.connect() as conn:
            return await conn.run_sync(describe)
    finally:
        await database.close()


@pytest.fixture
async def another_postgres_url() -> AsyncIterator[str]:
    """A second new database, for tests that compare two."""
    async with new_postgres_database(postgres_admin_url()) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def two_databases(request, tmp_path) -> AsyncIterator[tuple[str, str]]:
    """Two new, empty databases of the same backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "a" / "chorus.db"), str(tmp_path / "b" / "chorus.db")
        return
    admin = postgres_admin_url()
    async with new_postgres_database(admin) as first, new_postgres_database(admin) as second:
        yield first, second


# ---- the tests ---------------------------------------------------------------------------------------------------


async def test_a_new_sqlite_and_a_new_postgres_database_have_the_same_schema(db_path, postgres_url):
    """Same tables, columns (in order, by family, nullability, default, generated ids), keys, unique constraints and
    indexes (columns, uniqueness, partial WHERE) on both backends."""
    on_sqlite, on_postgres = await shape_of(str(db_path)), await shape_of(postgres_url)
    assert set(on_sqlite["tables"]) == {*schema.metadata.tables, "alembic_version"}
    assert differences(portable(on_sqlite), portable(on_postgres)) == []


async def test_an_upgraded_database_has_exactly_the_schema_of_a_new_one(two_databases):
    """A database Chorus 0.1 made (SQLite V007, PostgreSQL V002), once opened, equals a new one of its backend in
    every detail compared, exact types, constraint names (PostgreSQL), CHECKs and sequences included."""
    new_url, old_url = two_databases
    new, upgraded = await shape_of(new_url), await shape_of(old_url, legacy=True)
    assert "schema_migrations" not in upgraded["tables"]
    assert differences(new, upgraded) == []


async def test_ids_and_snowflakes_are_64_bit_on_postgres(postgres_url, another_postgres_url):
    """Every id and Discord snowflake column is bigint on PostgreSQL, new and upgraded (the families above would not
    tell integer from bigint)."""
    for shape in (await shape_of(postgres_url), await shape_of(another_postgres_url, legacy=True)):
        for table in schema.metadata.sorted_tables:
            for column in table.c:
                if isinstance(column.type, sa.BigInteger):  # schema.Id
                    assert shape["tables"][table.name]["columns"][column.name]["type"] == "BIGINT", column


def autogenerate_differences(conn: Connection) -> list[Any]:
    """What `alembic revision --autogenerate` would write for this database against `schema.metadata`, less what
    SQLite cannot tell it (see the filters)."""
    context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
    with warnings.catch_warnings():
        # SQLite's reflection cannot read expression indexes (personas_name): Alembic warns and skips the index.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        found = compare_metadata(context, schema.metadata)
    return [change for change in found if not _sqlite_noise(conn, change)]


def _sqlite_noise(conn: Connection, change: Any) -> bool:
    """Alembic's SQLite comparisons that are not differences:
    - a rowid alias (the sole INTEGER PRIMARY KEY) declared without NOT NULL reads as nullable, though SQLite never
      stores NULL there (Chorus 0.1 declared `id INTEGER PRIMARY KEY AUTOINCREMENT`);
    - an empty-string default (personas.description) compares its reflected `''` with the metadata's '' and differs
      on every SQLite database, new or not."""
    if conn.dialect.name != "sqlite" or not isinstance(change, list) or len(change) != 1:
        return False
    op, _, table, column, existing, old, new = change[0]
    if op == "modify_nullable":
        key = [c.name for c in schema.metadata.tables[table].primary_key.columns]
        return (old, new) == (True, False) and key == [column] and str(existing["existing_type"]) == "INTEGER"
    if op == "modify_default":
        return (table, column) == ("personas", "description") and getattr(new, "arg", None) == ""
    return False


@pytest.mark.parametrize("legacy", [False, True], ids=["new", "upgraded"])
async def test_alembic_finds_the_database_at_head_with_nothing_to_autogenerate(store_url, legacy):
    """Alembic's own view: the database is at the newest revision, and comparing it with `schema.metadata` finds
    nothing to migrate, on a new database and on one upgraded from Chorus 0.1."""
    if legacy:
        await build_legacy(store_url)
    database = await opened(store_url)
    try:
        async with database.connect() as conn:
            heads = await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads())
            found = await conn.run_sync(autogenerate_differences)
    finally:
        await database.close()
    assert heads == tuple(ScriptDirectory.from_config(alembic_config()).get_heads())
    assert found == []


async def test_the_comparison_catches_what_one_database_has_and_the_other_lacks(tmp_path):
    """The comparison is not blind: a table, a column, an index, a changed partial WHERE, a unique index made plain,
    and a nullability changed on one side each show up as a difference, even through `portable`."""
    before = await shape_of(str(tmp_path / "chorus.db"))
    changes = {
        "extra table": ("CREATE TABLE extra (id INTEGER PRIMARY KEY)", "/tables/extra"),
        "extra column": ("ALTER TABLE jams ADD COLUMN mood TEXT", "/tables/jams/columns/mood"),
        "extra index": ("CREATE INDEX jobs_by_kind ON jobs (kind)", "/tables/jobs/indexes/jobs_by_kind"),
        "other WHERE": ("DROP INDEX jobs_in_flight; CREATE INDEX jobs_in_flight ON jobs (id) WHERE state = 'queued'",
                        "/tables/jobs/indexes/jobs_in_flight/where"),
        "not unique": ("DROP INDEX jobs_task; CREATE INDEX jobs_task ON jobs (provider, task_id)"
                       " WHERE task_id IS NOT NULL", "/tables/jobs/indexes/jobs_task/unique"),
        "nullable": ("CREATE TABLE w2 (owner TEXT PRIMARY KEY, host TEXT, pid INTEGER NOT NULL, started_at REAL NOT"
                     " NULL, heartbeat_at REAL NOT NULL); DROP TABLE workers; ALTER TABLE w2 RENAME TO workers",
                     "/tables/workers/columns/host/nullable"),
    }
    for number, (what, (sql, where)) in enumerate(changes.items()):
        path = tmp_path / f"changed-{number}.db"
        database = await opened(str(path))
        async with database.transaction() as conn:
            for statement in sql.split(";"):
                await conn.execute(sa.text(statement))
        await database.close()
        found = differences(portable(before), portable(await shape_of(str(path))))
        assert any(line.startswith(where) for line in found), (what, found)
    assert differences(before, await shape_of(str(tmp_path / "chorus.db"))) == []


def test_index_definitions_read_the_same_from_both_backends():
    """The normaliser reads PostgreSQL's printing of an index as SQLite's (the cross-backend test relies on it)."""
    assert parse_index(
        "CREATE INDEX jobs_in_flight ON public.jobs USING btree (id) WHERE (state = ANY (ARRAY['queued'::text,"
        " 'running'::text]))"
    ) == parse_index("CREATE INDEX jobs_in_flight ON jobs (id) WHERE state IN ('queued', 'running')")
    assert parse_index("CREATE UNIQUE INDEX personas_name ON public.personas USING btree (guild_id, lower(name))") == (
        ("personas", "personas_name"), {"columns": ["guild_id", "lower(name)"], "unique": True, "where": None}
    )
    assert parse_index("CREATE INDEX jobs_by_user ON jobs (user_id, created_at DESC)")[1]["columns"] == [
        "user_id", "created_at desc"
    ]
    assert normal_default("'generate'::text", "text") == normal_default("'generate'", "text") == "generate"
    assert normal_default("false", "flag") == normal_default("0", "flag") == "false"
