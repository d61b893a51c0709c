"""Subscription triggers: the subset of Segment's subscription syntax that SPEC §3.2 names.

Grammar (keywords are case-insensitive)::

    trigger    := or
    or         := and ( "or" and )*
    and        := primary ( "and" primary )*
    primary    := "(" or ")" | field "exists" | field ( "=" | "!=" ) value
    field      := name ( "." name )*          e.g. type, event, properties.plan, context.source
    value      := "string" | number | true | false | null

A trigger is parsed once (`parse_trigger`, a hand-written tokenizer and recursive-descent
parser; nothing is ever evaluated as code) into a small tree of frozen dataclasses, compiled
once into a predicate (`compile_condition`) and evaluated against each message as a pure
function. A parse error is a `TriggerSyntaxError` carrying the 1-based line and column of the
offending token.

Semantics: `=` is JSON equality (a string never equals a number, `true` never equals 1);
`!=` is its negation, so it holds when the field is absent; `exists` holds when the field is
present and not null.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Generic, Literal, TypeAlias, TypeVar

from processor.errors import TriggerSyntaxError

# --------------------------------------------------------------------------- condition tree


@dataclass(frozen=True, slots=True)
class Compare:
    field: tuple[str, ...]
    op: Literal["=", "!="]
    value: object


@dataclass(frozen=True, slots=True)
class Exists:
    field: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class All:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Any:
    conditions: tuple[Condition, ...]


Condition: TypeAlias = Compare | Exists | All | Any

# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<unterminated>"(?:[^"\\\n]|\\.)*)
  | (?P<op>!=|=)
  | (?P<paren>[()])
  | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$\-]*(?:\.[A-Za-z_$0-9][A-Za-z0-9_$\-]*)*)
    """,
    re.VERBOSE,
)
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_KEYWORDS = {"and", "or", "exists", "true", "false", "null"}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # string | number | name | keyword | op | paren | end
    text: str
    line: int
    column: int
    value: object = None


def _tokenize(text: str, where: str | None) -> list[_Token]:
    tokens: list[_Token] = []
    pos, line, line_start = 0, 1, 0
    while pos < len(text):
        column = pos - line_start + 1
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _error(f"unexpected character {text[pos]!r}", text, line, column, where)
        kind = match.lastgroup
        assert kind is not None
        raw = match.group()
        if kind == "unterminated":
            raise _error("unterminated string", text, line, column, where)
        if kind == "string":
            tokens.append(_Token("string", raw, line, column, _unescape(raw, text, line, column, where)))
        elif kind == "number":
            number = float(raw)
            value: object = int(raw) if re.fullmatch(r"-?\d+", raw) else number
            tokens.append(_Token("number", raw, line, column, value))
        elif kind == "name" and raw.lower() in _KEYWORDS:
            tokens.append(_Token("keyword", raw.lower(), line, column))
        elif kind != "ws":
            tokens.append(_Token(kind, raw, line, column))
        for offset, char in enumerate(raw):
            if char == "\n":
                line, line_start = line + 1, pos + offset + 1
        pos = match.end()
    tokens.append(_Token("end", "", line, len(text) - line_start + 1))
    return tokens


def _unescape(raw: str, text: str, line: int, column: int, where: str | None) -> str:
    out: list[str] = []
    i = 1
    while i < len(raw) - 1:
        char = raw[i]
        if char == "\\":
            code = raw[i + 1]
            if code in _ESCAPES:
                out.append(_ESCAPES[code])
            elif code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", raw[i + 2 : i + 6]):
                out.append(chr(int(raw[i + 2 : i + 6], 16)))
                i += 4
            else:
                raise _error(f"unknown escape \\{code} in string", text, line, column + i, where)
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str, where: str | None) -> None:
        self.text = text
        self.where = where
        self.tokens = _tokenize(text, where)
        self.pos = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self, message: str, token: _Token) -> TriggerSyntaxError:
        return _error(message, self.text, token.line, token.column, self.where)

    def describe(self, token: _Token) -> str:
        return "end of trigger" if token.kind == "end" else repr(token.text)

    def parse(self) -> Condition:
        if self.peek().kind == "end":
            raise self.fail("empty trigger", self.peek())
        condition = self.parse_or()
        token = self.peek()
        if token.kind != "end":
            raise self.fail(f"expected 'and', 'or' or end of trigger, got {self.describe(token)}", token)
        return condition

    def parse_or(self) -> Condition:
        items = [self.parse_and()]
        while self.peek().kind == "keyword" and self.peek().text == "or":
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Any(tuple(items))

    def parse_and(self) -> Condition:
        items = [self.parse_primary()]
        while self.peek().kind == "keyword" and self.peek().text == "and":
            self.take()
            items.append(self.parse_primary())
        return items[0] if len(items) == 1 else All(tuple(items))

    def parse_primary(self) -> Condition:
        token = self.take()
        if token.kind == "paren" and token.text == "(":
            inner = self.parse_or()
            close = self.take()
            if not (close.kind == "paren" and close.text == ")"):
                raise self.fail(f"expected ')', got {self.describe(close)}", close)
            return inner
        if token.kind != "name":
            raise self.fail(f"expected a field name or '(', got {self.describe(token)}", token)
        field = tuple(token.text.split("."))
        op = self.take()
        if op.kind == "keyword" and op.text == "exists":
            return Exists(field)
        if op.kind != "op":
            raise self.fail(f"expected '=', '!=' or 'exists' after {token.text}, got {self.describe(op)}", op)
        value = self.take()
        if value.kind in ("string", "number"):
            literal = value.value
        elif value.kind == "keyword" and value.text in ("true", "false", "null"):
            literal = {"true": True, "false": False, "null": None}[value.text]
        else:
            raise self.fail(f"expected a quoted value after '{op.text}', got {self.describe(value)}", value)
        return Compare(field, "=" if op.text == "=" else "!=", literal)


def parse_trigger(text: str, *, where: str | None = None) -> Condition:
    """Parse a trigger; raises TriggerSyntaxError with 1-based line and column.

    `where` (e.g. `inbound.actions.upsertContact.trigger`) starts the error message, so that a
    start-up error names the action as well as the position.
    """
    return _Parser(text, where).parse()


def _error(message: str, text: str, line: int, column: int, where: str | None) -> TriggerSyntaxError:
    return TriggerSyntaxError(
        f"{where}: {message}" if where else message, text=text, line=line, column=column
    )


# --------------------------------------------------------------------------- evaluation

_ABSENT = object()

Predicate: TypeAlias = Callable[[Mapping[str, object]], bool]


def _lookup(message: Mapping[str, object], field: tuple[str, ...]) -> object:
    value: object = message
    for key in field:
        if type(value) is not dict or key not in value:
            return _ABSENT
        value = value[key]
    return value


def _json_equal(left: object, right: object) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return type(left) is type(right) and left == right


def compile_condition(condition: Condition) -> Predicate:
    """The condition as a predicate over messages (JSON objects as decoded: dicts). Pure."""
    if isinstance(condition, Compare):
        field, expected = condition.field, condition.value
        if condition.op == "=":
            if isinstance(expected, str) and len(field) == 1:
                key = field[0]  # the common case: type = "track", event = "Order Completed"

                def equals(message: Mapping[str, object]) -> bool:
                    value = message.get(key)
                    return type(value) is str and value == expected

                return equals
            return lambda message: _json_equal(_lookup(message, field), expected)
        return lambda message: not _json_equal(_lookup(message, field), expected)
    if isinstance(condition, Exists):
        path = condition.field

        def exists(message: Mapping[str, object]) -> bool:
            value = _lookup(message, path)
            return value is not _ABSENT and value is not None

        return exists
    if isinstance(condition, Any):
        one_of = _string_choices(condition)
        if one_of is not None:
            key, choices = one_of  # event = "A" or event = "B" …: one lookup, one set test

            def is_one_of(message: Mapping[str, object]) -> bool:
                value = message.get(key)
                return type(value) is str and value in choices

            return is_one_of
    parts = tuple(compile_condition(c) for c in condition.conditions)
    if len(parts) == 2:
        first, second = parts
        if isinstance(condition, All):
            return lambda message: first(message) and second(message)
        return lambda message: first(message) or second(message)
    if isinstance(condition, All):
        return lambda message: all(part(message) for part in parts)
    return lambda message: any(part(message) for part in parts)


def _string_choices(condition: Any) -> tuple[str, frozenset[str]] | None:
    """`k = "a" or k = "b" …` on one top-level key → (k, {a, b, …}); None for any other shape."""
    keys: set[str] = set()
    choices: set[str] = set()
    for part in condition.conditions:
        if not (
            isinstance(part, Compare)
            and part.op == "="
            and len(part.field) == 1
            and isinstance(part.value, str)
        ):
            return None
        keys.add(part.field[0])
        choices.add(part.value)
    return (keys.pop(), frozenset(choices)) if len(keys) == 1 else None


def matches(condition: Condition, message: Mapping[str, object]) -> bool:
    """Whether `message` satisfies `condition`. Pure; never raises on any message shape."""
    return compile_condition(condition)(message)


# --------------------------------------------------------------------------- many triggers at once


def string_keys(condition: Condition) -> frozenset[str] | None:
    """The top-level keys `condition` reads, when it only compares them with string literals.

    Its value then depends only on which string each key holds (a key holding anything else
    counts the same as an absent one). None when the condition reads anything more.
    """
    if isinstance(condition, Compare):
        if len(condition.field) == 1 and isinstance(condition.value, str):
            return frozenset(condition.field)
        return None
    if isinstance(condition, Exists):
        return None
    keys: set[str] = set()
    for part in condition.conditions:
        sub = string_keys(part)
        if sub is None:
            return None
        keys |= sub
    return frozenset(keys)


T = TypeVar("T")

MEMO_SIZE: Final = 4096
"""Signatures remembered by a Matcher before it starts over (each holds short strings only)."""
MEMO_STRING: Final = 128
"""Longer strings than this in a signature are never remembered (a message cannot grow the memo)."""


class Matcher(Generic[T]):
    """The items whose condition holds for a message, in order.

    When every condition only compares top-level keys with string literals (the default
    triggers: `type = "identify"`, `event = "Order Completed" or …`), the answer depends only on
    the strings those keys hold, so it is remembered per such signature; otherwise, and for
    messages that are not plain dicts, each predicate is called.
    """

    def __init__(self, items: Sequence[tuple[T, Condition]]) -> None:
        self._items = tuple((item, compile_condition(condition)) for item, condition in items)
        keys: set[str] | None = set()
        for _, condition in items:
            found = string_keys(condition)
            if found is None or keys is None:
                keys = None
                break
            keys |= found
        self._keys = tuple(sorted(keys)) if keys is not None else None
        self._memo: dict[tuple[str | None, ...], tuple[T, ...]] = {}

    def __call__(self, message: Mapping[str, object]) -> tuple[T, ...]:
        keys = self._keys
        if keys is None or type(message) is not dict:
            return tuple([item for item, holds in self._items if holds(message)])
        signature = tuple([v if type(v) is str else None for v in map(message.get, keys)])
        found = self._memo.get(signature)
        if found is None:
            found = tuple([item for item, holds in self._items if holds(message)])
            if all(v is None or len(v) <= MEMO_STRING for v in signature):
                if len(self._memo) >= MEMO_SIZE:
                    self._memo.clear()
                self._memo[signature] = found
        return found
