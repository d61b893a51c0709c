"""Fast construction of frozen, slotted value objects built once or more per record.

A frozen dataclass's generated `__init__` assigns through `object.__setattr__`, about three times
the cost of a plain assignment; at tens of thousands of records per second that is measurable.
Hot classes keep `@dataclass(frozen=True, slots=True, init=False)` (equality, repr, `replace`, no
assignment after construction) and write their `__init__` with the slots' own setters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The raw setter of the `__slots__` field `name` of `cls` (bypasses a frozen `__setattr__`)."""
    descriptor = cls.__dict__[name]
    setter: Callable[[Any, Any], None] = descriptor.__set__
    return setter
