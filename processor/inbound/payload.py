"""Action payloads: drop empty values, coerce scalars, check required fields (SPEC §3.1).

This reproduces what the hosted destination's runtime does to a mapped payload before the body
is sent, so the bodies come out equal:

* `clean_top_level`: only the top level is cleaned. A field whose value is missing, null or ""
  is left out; `discountApplication` is always kept. Values inside objects are never touched.
* `coerce_payload`: JSON-Schema type coercion as AJV does it with `coerceTypes: "array"`:
  `"2"` → 2 and `true` → 1 for number/integer fields, `123` → `"123"` for string fields, a
  one-element array → its element, a single object → a one-element list for list fields. Inside
  typed objects (order `items`) null becomes `""` for a string field and 0 for a number.
  Every failure of one action is collected, and reported together in one message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Final, TypeAlias

from processor.inbound.mapping import MISSING, is_empty


class Kind(Enum):
    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    OBJECT = "object"
    ANY = "any"
    """Passed through untouched (timestamps: ISO string or number, as sent)."""
    ITEMS = "items"
    """A list of typed objects (`FieldSpec.items` describes one)."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: Kind
    required: bool = False
    items: tuple[FieldSpec, ...] = ()


ALWAYS_KEPT: Final = frozenset({"discountApplication"})
_MAX_SAFE_INTEGER: Final = 2**53


class CoercionError(ValueError):
    """One value that cannot be coerced to its field's type."""


def clean_top_level(values: Mapping[str, object]) -> dict[str, object]:
    """Drop missing, null and "" top-level values (except `discountApplication`); order kept."""
    return {k: v for k, v in values.items() if k in ALWAYS_KEPT or not is_empty(v)}


def coerce_payload(
    values: Mapping[str, object], schema: Sequence[FieldSpec]
) -> tuple[dict[str, object], list[str]]:
    """Coerce each schema field of `values`; return the coerced values and every failure found."""
    out = dict(values)
    errors: list[str] = []
    for spec in schema:
        if spec.name not in out:
            if spec.required:
                errors.append(f"missing required field '{spec.name}'")
            continue
        out[spec.name] = _coerce_field(spec, out[spec.name], spec.name, errors, top_level=True)
    return out, errors


def _coerce_field(
    spec: FieldSpec, value: object, where: str, errors: list[str], *, top_level: bool
) -> object:
    if spec.kind is Kind.ITEMS:
        return _coerce_items(spec, value, where, errors)
    if not top_level and value is None and spec.kind is not Kind.OBJECT:
        value = "" if spec.kind is Kind.STRING else 0 if spec.kind in (Kind.NUMBER, Kind.INTEGER) else None
    try:
        return coerce(value, spec.kind)
    except CoercionError as exc:
        errors.append(f"'{where}' {exc}")
        return value


def _coerce_items(spec: FieldSpec, value: object, where: str, errors: list[str]) -> object:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        errors.append(f"'{where}' must be a list of objects, got {_describe(value)}")
        return value
    items: list[object] = []
    for index, item in enumerate(value):
        at = f"{where}[{index}]"
        if not isinstance(item, dict):
            errors.append(f"'{at}' must be an object, got {_describe(item)}")
            items.append(item)
            continue
        coerced = dict(item)
        for sub in spec.items:
            if sub.name not in coerced:
                if sub.required:
                    errors.append(f"missing required field '{at}.{sub.name}'")
                continue
            coerced[sub.name] = _coerce_field(
                sub, coerced[sub.name], f"{at}.{sub.name}", errors, top_level=False
            )
        items.append(coerced)
    return items


# --------------------------------------------------------------------------- compiled schemas


class _Never:
    """A type no value has: a field whose values always take the full coercion path."""


_READY: Final[dict[Kind, type | None]] = {
    Kind.STRING: str,
    Kind.OBJECT: dict,
    Kind.NUMBER: int,
    Kind.INTEGER: int,
    Kind.ANY: None,
    Kind.ITEMS: _Never,
}
"""Per kind, the type a value already has when coercion would return it unchanged (None: any)."""

CompiledField: TypeAlias = "tuple[str, bool, type | None, FieldSpec, tuple[CompiledField, ...]]"
"""An item field: name, required, ready type, spec, compiled item fields (ITEMS only)."""

Evaluator: TypeAlias = "Callable[[object], object]"
Source: TypeAlias = "int | Evaluator | None"
"""Where a field's value comes from: an index into the row, an evaluator of the message, nowhere."""

PlannedField: TypeAlias = (
    "tuple[str, int, Evaluator | None, bool, bool, type | None, FieldSpec, tuple[CompiledField, ...]]"
)
"""name, row index (-1: none), evaluator, required, always kept, ready type, spec, item fields."""


class _Absent:
    """A field that is not there at all (as opposed to MISSING, the value of a path not found)."""


_ABSENT: Final = _Absent()


def compile_schema(schema: Sequence[FieldSpec]) -> tuple[CompiledField, ...]:
    """Item fields prepared once: per-field checks chosen here, not per value."""
    return tuple(
        (spec.name, spec.required, _READY[spec.kind], spec, compile_schema(spec.items)) for spec in schema
    )


def plan_schema(schema: Sequence[FieldSpec], source_of: Callable[[str], Source]) -> tuple[PlannedField, ...]:
    """A schema prepared once for `build_fields`, each field with where its value comes from."""
    sources = [(spec, source_of(spec.name)) for spec in schema]
    return tuple(
        (
            spec.name,
            source if isinstance(source, int) else -1,
            None if isinstance(source, int) else source,
            spec.required,
            spec.name in ALWAYS_KEPT,
            _READY[spec.kind],
            spec,
            compile_schema(spec.items),
        )
        for spec, source in sources
    )


def build_fields(
    message: object, row: Sequence[object], plan: tuple[PlannedField, ...]
) -> tuple[dict[str, object], list[str]]:
    """The planned fields' values cleaned and coerced, in plan order, and every failure found.

    A field's value is `row[i]`, its evaluator's value on `message`, or absent. The result equals
    `coerce_payload(clean_top_level(values), schema)` keeping only the schema's keys, in schema
    order (`clean_and_coerce`), with the values gathered as they are needed.
    """
    body: dict[str, object] = {}
    errors: list[str] = []
    for name, index, evaluator, required, kept, ready, spec, items in plan:
        if index >= 0:
            value = row[index]
        elif evaluator is None:
            value = _ABSENT
        else:
            value = evaluator(message)
        kind = type(value)
        if kind is ready and (kind is not str or value):
            body[name] = value  # the common case: present, not "", already the right type
            continue
        if value is _ABSENT or (not kept and (value is MISSING or value is None or value == "")):
            if required:
                errors.append(f"missing required field '{name}'")
            continue
        if ready is None:
            body[name] = value
        elif items:
            body[name] = _coerce_compiled_items(items, value, name, errors)
        else:
            body[name] = _coerce_field(spec, value, name, errors, top_level=True)
    return body, errors


def clean_and_coerce(
    values: Mapping[str, object], schema: Sequence[FieldSpec]
) -> tuple[dict[str, object], list[str]]:
    """`coerce_payload(clean_top_level(values), schema)` keeping only the schema's keys, in its order."""
    plan = plan_schema(schema, [spec.name for spec in schema].index)
    return build_fields(None, row_of(values, plan), plan)


def row_of(values: Mapping[str, object], plan: tuple[PlannedField, ...]) -> list[object]:
    """`values` as the row of a plan whose sources are the fields' positions."""
    return [values.get(field[0], _ABSENT) for field in plan]


def _coerce_compiled_items(
    fields: tuple[CompiledField, ...], value: object, where: str, errors: list[str]
) -> object:
    """`_coerce_items` with compiled item fields: values of the right type skip `coerce`."""
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        errors.append(f"'{where}' must be a list of objects, got {_describe(value)}")
        return value
    items: list[object] = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            errors.append(f"'{where}[{index}]' must be an object, got {_describe(item)}")
            items.append(item)
            continue
        coerced = dict(item)
        for name, required, ready, spec, _ in fields:
            if name not in coerced:
                if required:
                    errors.append(f"missing required field '{where}[{index}].{name}'")
                continue
            sub = coerced[name]
            if ready is not None and type(sub) is not ready:
                coerced[name] = _coerce_field(spec, sub, f"{where}[{index}].{name}", errors, top_level=False)
        items.append(coerced)
    return items


# --------------------------------------------------------------------------- coercion

_ALREADY: Final[dict[Kind, tuple[type, ...]]] = {
    Kind.STRING: (str,),
    Kind.OBJECT: (dict,),
    Kind.NUMBER: (int,),
    Kind.INTEGER: (int,),
}


def coerce(value: object, kind: Kind) -> object:
    """One value → `kind`, AJV style; raises CoercionError when it cannot be done."""
    if kind is Kind.ANY or type(value) in _ALREADY.get(kind, ()):
        return value  # the common case: already the right JSON type (bool is not int here)
    if isinstance(value, list):
        if len(value) != 1:
            raise CoercionError(f"must be {_article(kind)}, got a list of {len(value)}")
        value = value[0]
    if kind is Kind.OBJECT:
        if isinstance(value, dict):
            return value
        raise CoercionError(f"must be an object, got {_describe(value)}")
    if kind is Kind.STRING:
        return _to_string(value)
    try:
        number = _to_number(value)
    except CoercionError:
        if kind is Kind.INTEGER:
            raise CoercionError(f"must be an integer, got {_describe(value)}") from None
        raise
    if kind is Kind.INTEGER and isinstance(number, float) and not number.is_integer():
        raise CoercionError(f"must be an integer, got {_describe(value)}")
    return number


def _to_string(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return js_number(value)
    if value is None:
        return ""
    raise CoercionError(f"must be a string, got {_describe(value)}")


_DECIMAL = re.compile(r"[ \t\n\r\f\v]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t\n\r\f\v]*")
_RADIX = re.compile(r"[ \t\n\r\f\v]*0([xXoObB])([0-9a-fA-F]+)[ \t\n\r\f\v]*")


def _to_number(value: object) -> int | float:
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _normal(value)
    if value is None:
        return 0
    if isinstance(value, str):
        if _DECIMAL.fullmatch(value):
            return _normal(float(value))
        radix = _RADIX.fullmatch(value)
        if radix:
            base = {"x": 16, "o": 8, "b": 2}[radix.group(1).lower()]
            try:
                return int(radix.group(2), base)
            except ValueError:
                pass
    raise CoercionError(f"must be a number, got {_describe(value)}")


def _normal(number: float) -> int | float:
    """Finite only; an integral float becomes an int (JavaScript prints 2.0 as 2)."""
    if not math.isfinite(number):
        raise CoercionError(f"must be a finite number, got {number!r}")
    if number.is_integer() and abs(number) < _MAX_SAFE_INTEGER:
        return int(number)
    return number


def js_number(number: int | float) -> str:
    """A number as JavaScript's String(n) writes it (`1.0` → "1", `1e-7` → "1e-7")."""
    if isinstance(number, int):
        return str(number)
    if not math.isfinite(number):
        return "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
    if number.is_integer() and abs(number) < 1e21:
        return str(int(number))
    magnitude = abs(number)
    if 1e-6 <= magnitude < 1e21:
        return format(Decimal(repr(number)), "f")
    mantissa, _, exponent = repr(number).partition("e")
    exp = int(exponent)
    return f"{mantissa}e{'+' if exp > 0 else '-'}{abs(exp)}"


def _article(kind: Kind) -> str:
    return "an integer" if kind is Kind.INTEGER else "an object" if kind is Kind.OBJECT else f"a {kind.value}"


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if value is MISSING:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    text = (
        repr(value) if isinstance(value, str) else js_number(value) if isinstance(value, int | float) else "?"
    )
    return text if len(text) <= 40 else text[:37] + "..."
