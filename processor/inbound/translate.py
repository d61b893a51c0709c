"""Segment message → Cordial requests: the inbound translator's only entry point. Pure, no I/O.

Decisions, in order (SPEC §3, §3.3, §3.5):

1. structure: not an object / no string `type` → `invalid_message`; unknown type → `unknown_type`;
2. recursion: `context.source == "cordial"` → skipped `blocked_recursion`;
3. consent policy: held back → skipped `consent`; its attributes (and `subscribeStatus`) join
   upsertContact's attributes;
4. identity: `missing_identifier` / `invalid_identifier`;
5. every enabled action whose trigger matches, in SPEC §3.1 order (none → skipped
   `no_matching_action`). Each gives a request, or a validation error of that action alone.

Settings are compiled once in `InboundTranslator.__init__`: a malformed trigger or field
mapping is a ConfigError (TriggerSyntaxError with line and column) naming the action.

Compiled for speed (~11 us a message on the bench corpus, from ~31): triggers become
predicates behind a memoising `Matcher`, field mappings closures (`compile_evaluator`), and
each action's schema a plan that reads, cleans and coerces the body's fields in wire order in
one pass (`build_fields`). The plain functions (`evaluate`, `clean_top_level`,
`coerce_payload`, `build_body`) stay the reference; tests/inbound/test_compiled.py holds the
compiled forms equal to them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from processor.config.settings import ActionSettings, InboundSettings
from processor.errors import ConfigError, ErrorClass
from processor.inbound import consent
from processor.inbound.actions import ACTIONS, BY_NAME, ActionDefinition, upsert_contact
from processor.inbound.classic import ClassicOptions, check_known, compile_classic, default_attributes
from processor.inbound.exceptions import TranslationError
from processor.inbound.identity import PREFIX_FIELDS, Identity, compile_identities, resolve_identity
from processor.inbound.mapping import MISSING, Evaluator, Expression, compile_evaluator, compile_expression
from processor.inbound.message import check_message, event_id, is_from_cordial
from processor.inbound.payload import PlannedField, build_fields, plan_schema, row_of
from processor.inbound.requests import ActionRejected, CordialRequest, InboundTranslation
from processor.inbound.triggers import Condition, Matcher, Predicate, compile_condition, parse_trigger
from processor.outcomes import Rejected


@dataclass(frozen=True, slots=True)
class CompiledAction:
    definition: ActionDefinition
    trigger: Predicate
    fields: tuple[tuple[str, Expression], ...]
    default_attributes: bool
    """upsertContact without an `attributes` mapping: attributes come from the traits."""
    condition: Condition
    """The parsed trigger (`trigger` is it compiled)."""
    evaluators: tuple[tuple[str, Evaluator], ...] = ()
    """`fields` compiled to closures."""
    plan: tuple[PlannedField, ...] = ()
    """The body's fields in wire (schema) order, each read from the identity row or its evaluator."""
    row_plan: tuple[PlannedField, ...] = ()
    """The same fields read from a row of mapped values (for actions that rework them first)."""
    direct: bool = False
    """No `prepare` step and no attributes to shape: the body is built straight from the message."""
    finish: Callable[[Mapping[str, object]], dict[str, object]] | None = None
    """`build_body`, when it is more than "every schema field present, in schema order" (the
    order `build_fields` writes); None when calling it would change nothing."""
    upsert_contact: bool = False


def compile_action(definition: ActionDefinition, config: ActionSettings) -> CompiledAction | None:
    """One action's settings → a compiled action, or None when it is disabled."""
    name = definition.action
    trigger_text = config.trigger if config.trigger is not None else definition.default_trigger
    enabled = config.enabled if config.enabled is not None else trigger_text is not None
    mappable = [s.name for s in definition.schema if s.name not in PREFIX_FIELDS]
    for key in config.fields:
        if key not in mappable:
            hint = " (identities are set in inbound.identities)" if key in PREFIX_FIELDS else ""
            raise ConfigError(
                f"inbound.actions.{name}.fields: unknown field {key!r}{hint}; known: {', '.join(mappable)}"
            )
    if trigger_text is None:
        if enabled:
            raise ConfigError(f"inbound.actions.{name}: enabled, but it has no default trigger; set trigger")
        return None
    condition = parse_trigger(trigger_text, where=f"inbound.actions.{name}.trigger")
    trigger = compile_condition(condition)
    raw_fields = {**definition.default_fields, **config.fields}
    fields = tuple(
        (key, compile_expression(raw, where=f"inbound.actions.{name}.fields.{key}"))
        for key, raw in raw_fields.items()
    )
    if not enabled:
        return None
    is_upsert_contact = definition.action == upsert_contact.ACTION
    use_traits = is_upsert_contact and "attributes" not in raw_fields
    evaluators = {key: compile_evaluator(expr) for key, expr in fields}
    schema = definition.full_schema
    names = [spec.name for spec in schema]
    return CompiledAction(
        definition,
        trigger,
        fields,
        use_traits,
        condition,
        evaluators=tuple(evaluators.items()),
        plan=plan_schema(schema, lambda key: _PREFIX_ROW.get(key, evaluators.get(key))),
        row_plan=plan_schema(schema, names.index),
        direct=not definition.has_preparation and not is_upsert_contact,
        finish=None if _selects_in_order(definition.build_body, names) else definition.build_body,
        upsert_contact=is_upsert_contact,
    )


_PREFIX_ROW: Final = {key: index for index, key in enumerate(PREFIX_FIELDS)}
"""Where each identity prefix field sits in the row `_build` passes to `build_fields`."""


def _selects_in_order(
    build_body: Callable[[Mapping[str, object]], dict[str, object]], names: list[str]
) -> bool:
    """Whether `build_body` returns every one of `names`, in that order, with its value untouched."""
    sample = {name: object() for name in names}
    body = build_body(sample)
    return list(body) == names and all(body[name] is sample[name] for name in names)


class InboundTranslator:
    """Compiled inbound settings; `translate()` is pure and never raises on bad input."""

    def __init__(self, settings: InboundSettings) -> None:
        self.settings = settings
        unknown = sorted(set(settings.actions) - set(BY_NAME))
        if unknown:
            raise ConfigError(f"inbound.actions: unknown action {unknown[0]!r}; known: {', '.join(BY_NAME)}")
        compiled = (compile_action(d, settings.actions.get(d.action, ActionSettings())) for d in ACTIONS)
        self.actions: tuple[CompiledAction, ...] = tuple(a for a in compiled if a is not None)
        self.identities = compile_identities(settings.identities)
        self.classic: ClassicOptions = compile_classic(settings)
        self._segment_id_key = settings.segment_id_key
        self._matching = Matcher([(a, a.condition) for a in self.actions])

    def translate(self, message: object) -> InboundTranslation | Rejected:
        """One Segment message → its requests, a skip, or a typed error. Never raises."""
        try:
            return self._translate(message)
        except TranslationError as exc:
            return Rejected(exc.error_class, exc.message)

    def _translate(self, value: object) -> InboundTranslation:
        message = check_message(value)
        ident = event_id(message)
        if is_from_cordial(message):
            return InboundTranslation((), skipped="blocked_recursion", event_id=ident)
        decision = consent.decide(message, self.settings.consent)
        if not decision.allowed:
            return InboundTranslation((), skipped="consent", event_id=ident)
        identity = resolve_identity(message, self.identities)
        matched = self._matching(message)
        if not matched:
            return InboundTranslation((), skipped="no_matching_action", event_id=ident)
        build = self._build
        return InboundTranslation(
            tuple([build(a, message, identity, decision) for a in matched]), None, ident
        )

    def _build(
        self,
        action: CompiledAction,
        message: Mapping[str, object],
        identity: Identity,
        decision: consent.ConsentDecision,
    ) -> CordialRequest | ActionRejected:
        name = action.definition.action
        if action.direct:
            row = (self._segment_id_key, identity.segment_id, identity.anonymous_id, identity.user_identities)
            body, failures = build_fields(message, row, action.plan)
            if failures:
                return ActionRejected(name, ErrorClass.VALIDATION, "; ".join(failures))
            return CordialRequest(name, body if action.finish is None else action.finish(body))
        values = identity.prefix(self._segment_id_key)
        for key, evaluator in action.evaluators:
            values[key] = evaluator(message)
        errors = action.definition.prepare(values)
        if action.upsert_contact:
            errors += self._attributes(action, values, message, identity, decision)
        body, failures = build_fields(None, row_of(values, action.row_plan), action.row_plan)
        if failures or errors:  # typed fields first; the last fields' own checks after them
            return ActionRejected(name, ErrorClass.VALIDATION, "; ".join(failures + errors))
        return CordialRequest(name, body if action.finish is None else action.finish(body))

    def _attributes(
        self,
        action: CompiledAction,
        values: dict[str, object],
        message: Mapping[str, object],
        identity: Identity,
        decision: consent.ConsentDecision,
    ) -> list[str]:
        """upsertContact's attributes: traits (classic options), known-attribute check, consent."""
        attributes = values.get("attributes", MISSING)
        if action.default_attributes:
            attributes = default_attributes(message, identity.used, self.classic) or MISSING
        if type(attributes) is not dict and not isinstance(attributes, Mapping):
            if attributes is MISSING and (decision.attributes or decision.subscribe):
                attributes = {}
            else:
                values["attributes"] = attributes
                return []
        checked, errors = check_known(attributes, self.classic)
        checked.update(decision.attributes)
        if decision.subscribe:
            checked[consent.SUBSCRIBE_STATUS_KEY] = "subscribed"
        values["attributes"] = checked
        return errors
