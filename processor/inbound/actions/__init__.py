"""The eight actions of SPEC §3.1, one module each, in the order a message's results are listed."""

from __future__ import annotations

from types import ModuleType

from processor.inbound.actions import (
    add_contact_to_list,
    add_product_to_cart,
    create_contactactivity,
    merge_contacts,
    remove_contact_from_list,
    remove_product_from_cart,
    upsert_contact,
    upsert_order,
)
from processor.inbound.actions.definition import ActionDefinition


def _define(module: ModuleType, **extra: object) -> ActionDefinition:
    return ActionDefinition(
        action=module.ACTION,
        default_trigger=module.DEFAULT_TRIGGER,
        default_fields=module.DEFAULT_FIELDS,
        schema=module.SCHEMA,
        build_body=module.build_body,
        **extra,  # type: ignore[arg-type]
    )


ACTIONS: tuple[ActionDefinition, ...] = (
    _define(upsert_contact),
    _define(create_contactactivity),
    _define(add_contact_to_list),
    _define(remove_contact_from_list),
    _define(add_product_to_cart),
    _define(remove_product_from_cart),
    _define(upsert_order, prepare=upsert_order.prepare),
    _define(merge_contacts, identity_prefix=False),
)
"""Every action, in SPEC §3.1 order (the order of `results`)."""

BY_NAME: dict[str, ActionDefinition] = {definition.action: definition for definition in ACTIONS}

__all__ = ["ACTIONS", "BY_NAME", "ActionDefinition"]
