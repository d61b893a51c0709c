"""examples/config.yaml: it loads, its inbound section compiles, and it does what its comments say."""

from __future__ import annotations

from pathlib import Path

import pytest

from processor.config.loader import load_settings
from processor.config.settings import Settings
from processor.inbound.translate import InboundTranslator

EXAMPLE = Path(__file__).parents[2] / "examples" / "config.yaml"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(EXAMPLE, environ={"CORDIAL_API_KEY": "example-key"})


def test_loads_with_every_section(settings: Settings) -> None:
    """Every top-level section is present in the file and loads without error."""
    text = EXAMPLE.read_text()
    for section in Settings.__dataclass_fields__:
        assert f"\n{section}:" in text, section
    assert settings.cordial.api_key is not None
    assert settings.inbound.segment_id_key == "segment_id"


def test_inbound_section_compiles_and_translates(settings: Settings, body_for) -> None:
    """The example's triggers and mappings compile and behave as documented."""
    translator = InboundTranslator(settings.inbound)
    identify = translator.translate(
        {
            "type": "identify",
            "userId": "u-1",
            "traits": {"email": "a@b.co", "first_name": "Ada", "website": "w", "address": {"state": "CA"}},
        }
    )
    assert body_for(identify, "upsertContact")["attributes"] == {
        "fname": "Ada",
        "state": "CA",
        "extid": "u-1",
    }
    removed = translator.translate(
        {"type": "track", "userId": "u-1", "event": "Removed From List", "properties": {"list_id": 7}}
    )
    assert body_for(removed, "removeContactFromList")["groupId"] == "7"
    added = translator.translate(
        {
            "type": "track",
            "anonymousId": "x",
            "event": "Product Added",
            "properties": {
                "product_id": "p",
                "sku": "s",
                "quantity": 1,
                "category": "c",
                "name": "n",
                "description": "d",
            },
        }
    )
    assert body_for(added, "addProductToCart")["description"] == "d"
