"""The compiled fast paths agree with the plain definitions they replace on the hot path.

`compile_evaluator`/`compile_getter` vs `evaluate`/`resolve`; `clean_and_coerce` vs each action's
`build_body(coerce_payload(clean_top_level(...)))` (values, failures, key order); the set-based
trigger for `k = "a" or k = "b"` vs the condition it stands for; `nested_deeper_than` vs a
straightforward walk.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.config.settings import ActionSettings
from processor.inbound.actions import ACTIONS, ActionDefinition
from processor.inbound.identity import PREFIX_FIELDS
from processor.inbound.mapping import (
    MISSING,
    compile_evaluator,
    compile_expression,
    compile_getter,
    evaluate,
    parse_path,
    resolve,
)
from processor.inbound.message import nested_deeper_than
from processor.inbound.payload import build_fields, clean_and_coerce, clean_top_level, coerce_payload, row_of
from processor.inbound.translate import compile_action
from processor.inbound.triggers import (
    MEMO_SIZE,
    MEMO_STRING,
    Any,
    Compare,
    Matcher,
    compile_condition,
    parse_trigger,
    string_keys,
)

KEYS = ["a", "b", "c", "sku", "products", "price", "quantity", "order_id", "discount", "type", "event"]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.sampled_from(["", "1", " 2.50 ", "0x1f", "x", "Order Completed", "track", "a@b.co"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    max_leaves=20,
)
PATHS = st.lists(st.sampled_from([*KEYS[:5], 0, 1]), max_size=4).map(
    lambda steps: "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)
)
EXPRESSIONS = st.recursive(
    PATHS | SCALARS | st.builds(lambda v: {"@literal": v}, SCALARS),
    lambda inner: (
        st.lists(inner, min_size=1, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS[:4]), inner, min_size=1, max_size=3)
        | st.builds(
            lambda path, item: {"@arrayPath": [path, item]},
            PATHS,
            st.dictionaries(st.sampled_from(KEYS[:4]), inner, min_size=1, max_size=3),
        )
    ),
    max_leaves=8,
)
FAST = settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@FAST
@given(PATHS, JSON)
def test_getter_matches_resolve(text: str, root: object) -> None:
    path = parse_path(text, where="test")
    assert repr(compile_getter(path)(root)) == repr(resolve(path, root))


@FAST
@given(EXPRESSIONS, JSON)
def test_evaluator_matches_evaluate(raw: object, root: object) -> None:
    expr = compile_expression(raw, where="test")
    assert repr(compile_evaluator(expr)(root)) == repr(evaluate(expr, root))


SIBLINGS = st.builds(
    lambda parent, items: {key: f"{parent}.{last}" if last else other for key, last, other in items},
    PATHS,
    st.lists(
        st.tuples(st.sampled_from(KEYS), st.sampled_from([None, *KEYS[:5]]), PATHS | SCALARS),
        min_size=1,
        max_size=5,
    ),
)


@FAST
@given(SIBLINGS, JSON | st.builds(lambda inner: {"a": {"b": inner}, "b": inner}, JSON))
def test_object_of_sibling_paths_matches_evaluate(raw: object, root: object) -> None:
    """Paths sharing a parent (read once) give what each path gives on its own."""
    expr = compile_expression(raw, where="test")
    assert repr(compile_evaluator(expr)(root)) == repr(evaluate(expr, root))


def test_getter_edges() -> None:
    """Null on the way gives null; a scalar or a missing key on the way gives MISSING."""
    get = compile_getter(parse_path("$.a.b.c", where="test"))
    assert get(None) is None
    assert get({"a": None}) is None
    assert get({"a": {"b": None}}) is None
    assert get({"a": {"b": {"c": None}}}) is None
    assert get({"a": "x"}) is MISSING
    assert get({"a": {"b": []}}) is MISSING
    assert get({"a": {"b": {}}}) is MISSING
    assert get({"a": {"b": {"c": 0}}}) == 0


def _reference_body(definition: ActionDefinition, values: dict[str, object]) -> tuple[bytes, list[str]]:
    coerced, failures = coerce_payload(clean_top_level(values), definition.full_schema)
    return repr(definition.build_body(coerced)).encode(), failures


@pytest.mark.parametrize("definition", ACTIONS, ids=lambda d: d.action)
@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_clean_and_coerce_matches_build_body(definition: ActionDefinition, data: st.DataObject) -> None:
    """Same values, failures and key order as the reference pipeline, for every action's schema."""
    names = [spec.name for spec in definition.full_schema] + ["userIdentities", "extra"]
    values: dict[str, object] = data.draw(
        st.dictionaries(st.sampled_from(names), JSON | st.just(MISSING), max_size=len(names))
    )
    body, failures = clean_and_coerce(values, definition.full_schema)
    assert (repr(body).encode(), failures) == _reference_body(definition, values)


@pytest.mark.parametrize("definition", ACTIONS, ids=lambda d: d.action)
def test_body_order_is_schema_order(definition: ActionDefinition) -> None:
    """Every field present, in reverse: the body still comes out in the action's wire order."""
    names = [spec.name for spec in definition.full_schema] + ["userIdentities"]
    values: dict[str, object] = {name: {} for name in reversed(names)}
    body, _ = clean_and_coerce(values, definition.full_schema)
    assert list(body) == list(definition.build_body(values))


@FAST
@given(st.lists(st.sampled_from(["Order Completed", "track", "x", "1"]), min_size=2, max_size=4), JSON)
def test_one_key_string_choices_match_the_condition(choices: list[str], value: object) -> None:
    condition = Any(tuple(Compare(("event",), "=", c) for c in choices))
    text = " or ".join(f'event = "{c}"' for c in choices)
    message = {"event": value}
    expected = any(
        type(value) is str and value == c for c in choices
    )  # JSON equality: a string equals only a string
    assert compile_condition(condition)(message) is expected
    assert compile_condition(parse_trigger(text))(message) is expected


@pytest.mark.parametrize(
    ("text", "message", "expected"),
    [
        ('type = "a" or event = "b"', {"event": "b"}, True),
        ('type = "a" or type = 1', {"type": 1}, True),
        ('type = "a" and event = "b"', {"type": "a", "event": "b"}, True),
        ('type = "a" and event = "b"', {"type": "a"}, False),
        ('type = "a" or type = "b" or type = "c"', {"type": ["a"]}, False),
        ('type = "a" or type = "b" or type = "c"', {}, False),
    ],
)
def test_compound_triggers_give_booleans(text: str, message: dict[str, object], expected: bool) -> None:
    assert compile_condition(parse_trigger(text))(message) is expected


def _reference_deeper(value: object, limit: int) -> bool:
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if type(item) is dict else item if type(item) is list else ()
        for child in children:
            if type(child) in (dict, list):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


@FAST
@given(JSON, st.integers(min_value=1, max_value=5))
def test_depth_matches_a_plain_walk(value: object, limit: int) -> None:
    assert nested_deeper_than(value, limit) is _reference_deeper(value, limit)


MESSAGE_KEYS = [
    "userId",
    "anonymousId",
    "previousId",
    "groupId",
    "event",
    "timestamp",
    "properties",
    "context",
]
MESSAGES = st.dictionaries(
    st.sampled_from(MESSAGE_KEYS), JSON | st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6), max_size=8
)


@pytest.mark.parametrize("definition", ACTIONS, ids=lambda d: d.action)
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(message=MESSAGES, key=st.sampled_from(["segment_id", ""]))
def test_direct_plan_matches_the_values_path(
    definition: ActionDefinition, message: dict[str, object], key: str
) -> None:
    """Reading fields straight from the message gives what mapping into a values dict first gives."""
    action = compile_action(definition, ActionSettings(trigger="type exists"))
    assert action is not None
    identity = (message.get("userId", MISSING), message.get("anonymousId", MISSING), {"k": "v"})
    direct = build_fields(message, (key, *identity), action.plan)
    values: dict[str, object] = dict(zip(PREFIX_FIELDS, (key, *identity), strict=True))
    values.update((name, evaluator(message)) for name, evaluator in action.evaluators)
    assert repr(direct) == repr(build_fields(None, row_of(values, action.row_plan), action.row_plan))


TRIGGERS = [
    'type = "identify"',
    'type = "track" or type = "page"',
    'type = "track" and event = "Product Added"',
    'event = "Order Completed" or event = "Order Updated"',
    'type != "alias" and (event = "x" or type = "group")',
]
TOP = st.dictionaries(
    st.sampled_from(["type", "event", "name"]),
    st.sampled_from(["identify", "track", "page", "group", "alias", "Product Added", "Order Completed", "x"])
    | JSON,
    max_size=3,
)


@pytest.mark.parametrize("extra", [None, "properties.total exists"])
@FAST
@given(messages=st.lists(TOP, min_size=1, max_size=8))
def test_matcher_matches_each_predicate(extra: str | None, messages: list[dict[str, object]]) -> None:
    """Memoised or not, the matching items are those whose own predicate holds, in order."""
    texts = [*TRIGGERS, *([extra] if extra else [])]
    matcher = Matcher([(text, parse_trigger(text)) for text in texts])
    predicates = [(text, compile_condition(parse_trigger(text))) for text in texts]
    for message in messages * 2:  # the second pass answers from the memo
        expected = tuple(text for text, holds in predicates if holds(message))
        assert matcher(message) == expected


def test_matcher_keys_and_memo_bounds() -> None:
    assert string_keys(parse_trigger('type = "a" or (event != "b" and type = "c")')) == frozenset(
        {"type", "event"}
    )
    assert string_keys(parse_trigger("type = 1")) is None
    assert string_keys(parse_trigger('properties.plan = "a"')) is None
    assert string_keys(parse_trigger("event exists")) is None
    matcher = Matcher([("e", parse_trigger('event = "x"'))])
    assert matcher({"event": "y" * (MEMO_STRING + 1)}) == ()
    assert matcher._memo == {}  # a long string is never remembered
    for i in range(MEMO_SIZE + 5):
        assert matcher({"event": f"e{i}"}) == ()
    assert 0 < len(matcher._memo) <= MEMO_SIZE
    assert matcher({"event": "x"}) == ("e",)


@pytest.mark.parametrize("definition", ACTIONS, ids=lambda d: d.action)
def test_build_body_needs_no_second_pass(definition: ActionDefinition) -> None:
    """Every action's build_body sends its schema fields in schema order, so the body is final."""
    action = compile_action(definition, ActionSettings(trigger="type exists"))
    assert action is not None
    assert action.finish is None


def test_a_build_body_in_another_order_is_applied() -> None:
    """Were a build_body to order the fields differently, its order would win."""
    definition = dataclasses.replace(
        ACTIONS[0], build_body=lambda values: dict(reversed(list(values.items())))
    )
    action = compile_action(definition, ActionSettings(trigger="type exists"))
    assert action is not None
    assert action.finish is not None
    body, _ = build_fields({}, ("k", "u", "a", {}), action.plan)
    assert list(action.finish(body)) == ["userIdentities", "anonymousId", "segmentId", "segmentIdKey"]
