"""Field-mapping expressions: how an action field takes its value from a Segment message.

The same expression language the hosted destination's mapping kit speaks, reduced to what the
Cordial actions need. In YAML (`inbound.actions.<action>.fields.<field>`):

* ``"$.a.b"``                 a path into the message (``$`` is the whole message; ``$.a[0].b``
                              indexes a list). A missing key gives *missing*, not null.
* ``["$.a", "$.b", "x"]``     fall-backs: the first value that is present, not null and not ``""``
                              (a trailing literal is a default).
* ``{"@path": "$.a"}``        a path, spelled as the hosted destination spells it.
* ``{"@literal": v}``         ``v`` as is (also for a string that starts with ``$``).
* ``{"@arrayPath": ["$.list", {...}]}``  map each element of a list (a single object counts as a
                              one-element list) with the object expression; paths inside are
                              relative to the element, and a ``null`` element maps every path to null.
* ``{"k": expr, ...}``        an object built key by key, in the order written; keys whose
                              expression is missing are left out, nulls are kept.
* any other scalar            a literal (``null`` removes the field: it is then left out of the body).

Expressions are compiled once (`compile_expression`) and evaluated as pure functions (`evaluate`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from processor.errors import ConfigError


class _Missing:
    """The value of a path that is not there (JavaScript's `undefined`): never sent."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


@dataclass(frozen=True, slots=True)
class Path:
    """`$.a.b[0]`: string keys and list indexes from the root."""

    steps: tuple[str | int, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Literal:
    value: object


@dataclass(frozen=True, slots=True)
class Fallbacks:
    options: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class ObjectExpr:
    items: tuple[tuple[str, Expression], ...]


@dataclass(frozen=True, slots=True)
class ArrayPath:
    source: Path
    item: ObjectExpr


Expression: TypeAlias = Path | Literal | Fallbacks | ObjectExpr | ArrayPath

_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def parse_path(text: str, *, where: str) -> Path:
    """`$`, `$.a.b`, `$.a[0].b` → Path; anything else is a ConfigError naming `where`."""
    if not text.startswith("$"):
        raise ConfigError(f"{where}: a path starts with '$', got {text!r}")
    steps: list[str | int] = []
    pos = 1
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None:
            raise ConfigError(f"{where}: malformed path {text!r} at character {pos + 1}")
        key, index = match.groups()
        steps.append(key if key is not None else int(index))
        pos = match.end()
    return Path(tuple(steps), text)


def compile_expression(raw: object, *, where: str) -> Expression:
    """A YAML/JSON mapping value → an Expression (ConfigError naming `where` when malformed)."""
    if isinstance(raw, str):
        return parse_path(raw, where=where) if raw.startswith("$") else Literal(raw)
    if isinstance(raw, list):
        if not raw:
            raise ConfigError(f"{where}: an empty list of fall-backs")
        return Fallbacks(tuple(compile_expression(item, where=f"{where}[{i}]") for i, item in enumerate(raw)))
    if isinstance(raw, Mapping):
        return _compile_mapping(raw, where=where)
    return Literal(raw)


def _compile_mapping(raw: Mapping[object, object], *, where: str) -> Expression:
    directives = [k for k in raw if isinstance(k, str) and k.startswith("@")]
    if not directives:
        return ObjectExpr(
            tuple((str(k), compile_expression(v, where=f"{where}.{k}")) for k, v in raw.items())
        )
    if len(raw) != 1:
        raise ConfigError(f"{where}: {directives[0]} must be the only key of its object")
    (name, value) = next(iter(raw.items()))
    if name == "@literal":
        return Literal(value)
    if name == "@path":
        if not isinstance(value, str):
            raise ConfigError(f"{where}: @path takes a string, got {value!r}")
        return parse_path(value, where=where)
    if name == "@arrayPath":
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)):
            raise ConfigError(f'{where}: @arrayPath takes ["$.path", {{...}}]')
        item = compile_expression(value[1], where=f"{where}.@arrayPath[1]")
        if not isinstance(item, ObjectExpr):
            raise ConfigError(f"{where}: the second item of @arrayPath must be an object of fields")
        return ArrayPath(parse_path(value[0], where=where), item)
    raise ConfigError(f"{where}: unknown directive {name!r} (known: @path, @literal, @arrayPath)")


def resolve(path: Path, root: object) -> object:
    """The value at `path` under `root`, or MISSING. A null root gives null (see @arrayPath)."""
    value = root
    for step in path.steps:
        if value is None:
            return None
        if isinstance(step, int):
            if type(value) is not list or step >= len(value):
                return MISSING
            value = value[step]
        else:
            if type(value) is not dict or step not in value:
                return MISSING
            value = value[step]
    return value


def is_empty(value: object) -> bool:
    """Missing, null or "": what fall-backs skip and top-level cleaning drops."""
    return value is MISSING or value is None or value == ""


def evaluate(expr: Expression, root: object) -> object:
    """Evaluate one compiled expression against a message (or a list element). Pure."""
    if isinstance(expr, Path):
        return resolve(expr, root)
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Fallbacks):
        for option in expr.options:
            value = evaluate(option, root)
            if not is_empty(value):
                return value
        return MISSING
    if isinstance(expr, ObjectExpr):
        built: dict[str, object] = {}
        for key, sub in expr.items:
            value = evaluate(sub, root)
            if value is not MISSING:
                built[key] = value
        return built
    source = resolve(expr.source, root)
    if source is MISSING or source is None:
        return source
    elements: Sequence[object] = source if isinstance(source, list) else [source]
    return [evaluate(expr.item, element) for element in elements]


Evaluator: TypeAlias = Callable[[object], object]
"""A compiled expression: root → value, as `evaluate` gives it (built once, called per message)."""


def compile_getter(path: Path) -> Evaluator:
    """`resolve(path, ·)` as a closure; the common one- to three-key paths unrolled."""
    steps = path.steps
    if not all(isinstance(step, str) for step in steps) or not 1 <= len(steps) <= 3:
        return lambda root: resolve(path, root)
    if len(steps) == 1:
        (a,) = steps

        def get1(root: object) -> object:
            if type(root) is dict:
                return root.get(a, MISSING)
            return None if root is None else MISSING

        return get1
    if len(steps) == 2:
        a, b = steps

        def get2(root: object) -> object:
            if type(root) is not dict:
                return None if root is None else MISSING
            value = root.get(a, MISSING)
            if type(value) is dict:
                return value.get(b, MISSING)
            return None if value is None else MISSING

        return get2
    a, b, c = steps

    def get3(root: object) -> object:
        if type(root) is not dict:
            return None if root is None else MISSING
        value = root.get(a, MISSING)
        if type(value) is not dict:
            return None if value is None else MISSING
        value = value.get(b, MISSING)
        if type(value) is dict:
            return value.get(c, MISSING)
        return None if value is None else MISSING

    return get3


def compile_evaluator(expr: Expression) -> Evaluator:
    """`evaluate(expr, ·)` as a closure: the expression tree is walked once, here, not per message."""
    if isinstance(expr, Path):
        return compile_getter(expr)
    if isinstance(expr, Literal):
        constant = expr.value
        return lambda root: constant
    if isinstance(expr, Fallbacks):
        options = tuple(compile_evaluator(option) for option in expr.options)

        def first_present(root: object) -> object:
            for option in options:
                value = option(root)
                if value is not MISSING and value is not None and value != "":
                    return value
            return MISSING

        return first_present
    if isinstance(expr, ObjectExpr):
        return _compile_object(expr)
    source = compile_getter(expr.source)
    item = compile_evaluator(expr.item)

    def each(root: object) -> object:
        found = source(root)
        if found is MISSING or found is None:
            return found
        if isinstance(found, list):
            return [item(element) for element in found]
        return [item(found)]

    return each


def _compile_object(expr: ObjectExpr) -> Evaluator:
    """An object expression; paths that differ only in their last key read their parent once.

    `{"brand": "$.properties.brand", "variant": "$.properties.variant"}` resolves
    `$.properties` once per message and takes each key from it (the first such path's parent
    is the shared one; any other item is evaluated on its own).
    """
    parent: tuple[str | int, ...] | None = None
    items: list[tuple[str, str | None, Evaluator | None]] = []
    for key, sub in expr.items:
        if isinstance(sub, Path) and sub.steps and isinstance(sub.steps[-1], str):
            if parent is None:
                parent = sub.steps[:-1]
            if sub.steps[:-1] == parent:
                items.append((key, sub.steps[-1], None))
                continue
        items.append((key, None, compile_evaluator(sub)))
    plan = tuple(items)
    get_parent = compile_getter(Path(parent, "")) if parent else None

    def build(root: object) -> object:
        base = root if get_parent is None else get_parent(root)
        fill = None if base is None else MISSING  # what each child path gives when base is no object
        is_object = type(base) is dict
        built: dict[str, object] = {}
        for key, last, sub in plan:
            if sub is not None:
                value = sub(root)
            elif is_object:
                value = base.get(last, MISSING)  # type: ignore[attr-defined]
            else:
                value = fill
            if value is not MISSING:
                built[key] = value
        return built

    return build
