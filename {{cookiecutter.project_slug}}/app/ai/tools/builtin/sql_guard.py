"""The lexical guard of the `sql_query` tool: one read-only statement, allowlisted calls.

It is the first of the tool's layers (see `sql.py`); the database enforces the same
rules again, so a mistake here alone opens nothing.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

from app.ai.tools.base import ToolError

MAX_QUERY_CHARS = 10_000
# Schemas of system catalogs: never readable, whatever a role's grants say.
CATALOG_NAMES = frozenset({"information_schema", "pg_catalog", "pg_toast"})


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


ALLOWED_FUNCTIONS = _words(
    """count sum avg min max total group_concat string_agg array_agg json_agg jsonb_agg
    json_group_array json_group_object bool_and bool_or every stddev stddev_pop stddev_samp
    variance var_pop var_samp percentile_cont percentile_disc mode row_number rank dense_rank
    percent_rank cume_dist ntile lag lead first_value last_value nth_value abs round ceil
    ceiling floor trunc mod power pow sqrt exp ln log log10 log2 sign pi sin cos tan asin acos
    atan atan2 degrees radians random width_bucket coalesce nullif ifnull iif greatest least
    length char_length character_length octet_length lower upper trim ltrim rtrim btrim substr
    substring replace instr position strpos concat concat_ws left right lpad rpad reverse
    split_part initcap format printf quote hex unicode char chr ascii like glob starts_with
    regexp_replace regexp_match regexp_matches date time datetime julianday strftime unixepoch
    date_trunc date_part extract to_char to_date to_timestamp to_number age make_date
    make_time make_timestamp make_interval now timezone json jsonb json_extract json_array
    json_object json_array_length json_type json_valid json_quote
    json_build_object jsonb_build_object json_build_array jsonb_build_array to_json to_jsonb
    row_to_json json_object_agg jsonb_object_agg json_extract_path json_extract_path_text
    jsonb_extract_path jsonb_extract_path_text jsonb_array_length json_typeof jsonb_typeof
    json_array_elements jsonb_array_elements json_each_text jsonb_each jsonb_each_text
    json_object_keys jsonb_object_keys generate_series unnest array_length array_to_string
    string_to_array cardinality typeof varchar character numeric decimal float real timestamp
    timestamptz interval bit -> ->>"""
)
# Words that may precede "(" without being a function call.
_PAREN_KEYWORDS = _words(
    """select from where and or not in exists as on using join values over filter within cast
    case when then else by having distinct is between like ilike with recursive materialized
    any all some array row lateral union intersect except limit offset partition order group
    rows range groups escape cube rollup sets grouping"""
)
_WRITE_KEYWORDS = _words(
    """insert update delete merge upsert into truncate drop create alter attach detach pragma
    grant revoke copy vacuum reindex"""
)

_COMMON = r"""
    (?P<space>\s+) | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^']|'')*') | (?P<quoted>"(?:[^"]|"")*")
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<word>[^\W\d]\w*)"""
_TOKENS = {
    "postgresql": re.compile(_COMMON + r" | (?P<symbol>\S)", re.VERBOSE | re.DOTALL),
    # SQLite also quotes names as [name] and `name`.
    "sqlite": re.compile(
        _COMMON + r" | (?P<bracketed>\[[^\]]*\]|`(?:[^`]|``)*`) | (?P<symbol>\S)",
        re.VERBOSE | re.DOTALL,
    ),
}


_OPEN_QUOTES = {"postgresql": "'\"", "sqlite": "'\"`["}


def _tokens(statement: str, dialect: str) -> Iterator[tuple[str, str]]:
    """(kind, text) pairs, names lower-cased and unquoted, without spaces and comments."""
    for match in _TOKENS[dialect].finditer(statement):
        kind, value = match.lastgroup or "symbol", match.group()
        if kind in ("space", "comment"):
            continue
        if kind in ("quoted", "bracketed"):
            yield "name", value[1:-1].replace(value[0] * 2, value[0]).lower()
        elif kind == "symbol" and value in _OPEN_QUOTES[dialect]:
            raise ToolError("Unterminated quote in the query")
        else:
            yield kind, value.lower() if kind == "word" else value


def _close_paren(tokens: list[tuple[str, str]], start: int) -> int:
    """The index just past the parenthesis that closes the one at `start`."""
    depth = 0
    for index in range(start, len(tokens)):
        if tokens[index] == ("symbol", "("):
            depth += 1
        elif tokens[index] == ("symbol", ")"):
            depth -= 1
            if depth == 0:
                return index + 1
    raise ToolError("Unbalanced parentheses in the query")


def _is_name_list(tokens: list[tuple[str, str]], start: int) -> bool:
    """`(a, b)` or `(10, 2)`: column aliases or type modifiers, never a function's arguments."""
    inner = tokens[start + 1 : _close_paren(tokens, start) - 1]
    return all(kind in ("word", "name", "number") or text == "," for kind, text in inner)


def _cte_names(tokens: list[tuple[str, str]]) -> set[int]:
    """Positions of `WITH name(cols) AS (...)` names, whose parentheses are not calls."""

    def at(index: int) -> tuple[str, str]:
        return tokens[index] if index < len(tokens) else ("end", "")

    index = 2 if at(1) == ("word", "recursive") else 1
    names: set[int] = set()
    while True:
        if at(index)[0] not in ("word", "name"):
            raise ToolError("Could not read the WITH clause")
        if at(index + 1) == ("symbol", "("):
            names.add(index)
            index = _close_paren(tokens, index + 1)
        else:
            index += 1
        if at(index) != ("word", "as"):
            raise ToolError("Could not read the WITH clause")
        index += 1
        for optional in ("not", "materialized"):
            index += at(index) == ("word", optional)
        if at(index) != ("symbol", "("):
            raise ToolError("Could not read the WITH clause")
        index = _close_paren(tokens, index)
        if at(index) != ("symbol", ","):
            return names
        index += 1


def validate_query(
    query: str, *, dialect: str, blocked_tables: Collection[str], allowed_functions: Collection[str]
) -> str:
    """The statement to run, or a `ToolError` naming what the lexical guard refused."""
    statement = query.strip().rstrip(";").rstrip()
    if not statement:
        raise ToolError("The query is empty")
    if len(statement) > MAX_QUERY_CHARS:
        raise ToolError(f"The query is longer than {MAX_QUERY_CHARS} characters")
    if re.search(r"[\\$\x00]|&['\"]", statement):
        raise ToolError("Backslashes, '$' and U&'' escapes are not allowed in queries")
    tokens = list(_tokens(statement, dialect))
    if not tokens or tokens[0] not in (("word", "select"), ("word", "with")):
        raise ToolError("Only a single SELECT (or WITH ... SELECT) statement is allowed")
    ctes = _cte_names(tokens) if tokens[0][1] == "with" else set()
    for index, (kind, word) in enumerate(tokens):
        if (kind, word) == ("symbol", ";"):
            raise ToolError("Only a single statement is allowed")
        if kind not in ("word", "name"):
            continue
        if kind == "word" and word in _WRITE_KEYWORDS:
            raise ToolError(f"{word.upper()} is not allowed: this tool only reads")
        if word in blocked_tables or word in CATALOG_NAMES or word.startswith(("pg_", "sqlite_")):
            raise ToolError(f"{word!r} is not available to this tool")
        calls = tokens[index + 1 : index + 2] == [("symbol", "(")]
        if (
            calls
            and index not in ctes
            and word not in allowed_functions
            and not (kind == "word" and word in _PAREN_KEYWORDS)
            and not (tokens[index - 1] == ("word", "as") and _is_name_list(tokens, index + 1))
        ):
            raise ToolError(f"Function {word}() is not allowed")
    return statement
