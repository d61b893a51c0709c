"""Shared fixtures for the inbound translator tests: a translator factory and golden cases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from processor.config.settings import ActionSettings, InboundSettings
from processor.inbound.requests import ActionRejected, CordialRequest, InboundTranslation
from processor.inbound.translate import InboundTranslator

GOLDEN = Path(__file__).parent / "actions" / "golden"

TranslatorFactory = Callable[..., InboundTranslator]


def _settings(**kwargs: Any) -> InboundSettings:
    actions = kwargs.pop("actions", {})
    converted = {
        name: value if isinstance(value, ActionSettings) else ActionSettings(**value)
        for name, value in actions.items()
    }
    return InboundSettings(actions=converted, **kwargs)


@pytest.fixture
def make_translator() -> TranslatorFactory:
    """`make_translator(actions={"upsertContact": {"trigger": ...}}, identities=...)`."""

    def factory(**kwargs: Any) -> InboundTranslator:
        return InboundTranslator(_settings(**kwargs))

    return factory


@pytest.fixture
def translator() -> InboundTranslator:
    return InboundTranslator(InboundSettings())


def result_for(result: object, action: str) -> CordialRequest | ActionRejected:
    """The one result of `action` in a translation (fails the test when absent)."""
    assert isinstance(result, InboundTranslation), result
    found = [r for r in result.results if r.action == action]
    assert len(found) == 1, result
    return found[0]


def body_for(result: object, action: str) -> dict[str, object]:
    item = result_for(result, action)
    assert isinstance(item, CordialRequest), item
    return dict(item.body)


def error_for(result: object, action: str) -> str:
    item = result_for(result, action)
    assert isinstance(item, ActionRejected), item
    return item.message


def golden(action_dir: str, case: str) -> tuple[dict[str, Any], bytes]:
    """(event, expected body bytes) of a golden case; bodies are stored compact, one line."""
    event = orjson.loads((GOLDEN / action_dir / f"{case}.event.json").read_bytes())
    expected = (GOLDEN / action_dir / f"{case}.body.json").read_bytes().rstrip(b"\n")
    return event, expected


@pytest.fixture(name="golden")
def golden_fixture() -> Callable[[str, str], tuple[dict[str, Any], bytes]]:
    return golden


@pytest.fixture(name="body_for")
def body_for_fixture() -> Callable[[object, str], dict[str, object]]:
    return body_for


@pytest.fixture(name="error_for")
def error_for_fixture() -> Callable[[object, str], str]:
    return error_for
