"""Fixtures for the outbound tests, among them seed 002's worked click example.

The seed shows the record truncated (its arrays are cut off); the missing values are the ones
its flattened output implies: `lTags: ["threadsdemo"]`, `mTags: ["test1", "test2"]`, and the
`message_name`/`subject` behind `campaign_name`/`email_subject` (SPEC §4.2).
"""

from __future__ import annotations

from typing import Any

import pytest

from processor.config.settings import OutboundSettings
from processor.outbound.translate import OutboundTranslator


def _seed_click_record() -> dict[str, Any]:
    return {
        "action": "click",
        "time": "2021-10-22T16:11:48+0000",
        "bmID": "45:6172e28c897f2011ab137761:ot",
        "cID": "5c673e6b10986b7e3cd505d1",
        "mcID": "45:6172e28c897f2011ab137761:ot:5c673e6b10986b7e3cd505d1:1",
        "first": True,
        "lTags": ["threadsdemo"],
        "_id": "6172e2c81815fd55160c82b1",
        "message_name": "Fall Sale",
        "subject": "Fall Sale 10% Off",
        "d": {
            "type": "computer",
            "device": "WebKit",
            "platform": "Windows",
            "browser": "Chrome",
            "robot": False,
            "bot_score": 18,
            "bot_verified": False,
            "asn": 701,
            "threat_score": 0,
        },
        "properties": {"foo": "bar", "foo2": "bar2"},
        "system_properties": {
            "ed": "",
            "mTags": ["test1", "test2"],
            "link": "",
            "lKey": "",
            "rl": "$utm_source=test1&utm_campaign=april1&utm_medium=test3",
        },
    }


# Copied from the seed's "as passed to Segment (flattened)" example, in the seed's order.
_SEED_PROPERTIES: dict[str, Any] = {
    "_id": "6172e2c81815fd55160c82b1",
    "action": "click",
    "bmID": "45:6172e28c897f2011ab137761:ot",
    "cID": "5c673e6b10986b7e3cd505d1",
    "campaign_id": "45:6172e28c897f2011ab137761:ot",
    "campaign_name": "Fall Sale",
    "email_id": "45:6172e28c897f2011ab137761:ot:5c673e6b10986b7e3cd505d1:1",
    "email_subject": "Fall Sale 10% Off",
    "first": True,
    "link_url": "$utm_source=test1&utm_campaign=april1&utm_medium=test3",
    "mcID": "45:6172e28c897f2011ab137761:ot:5c673e6b10986b7e3cd505d1:1",
    "system_properties_ed": "",
    "system_properties_mTags_0": "test1",
    "system_properties_mTags_1": "test2",
    "system_properties_lKey": "",
    "system_properties_rl": "$utm_source=test1&utm_campaign=april1&utm_medium=test3",
    "properties_foo": "bar",
    "properties_foo2": "bar2",
    "lTags_0": "threadsdemo",
    "d_type": "computer",
    "d_device": "WebKit",
    "d_platform": "Windows",
    "d_browser": "Chrome",
    "d_robot": False,
    "d_bot_score": 18,
    "d_bot_verified": False,
    "d_asn": 701,
    "d_threat_score": 0,
}


@pytest.fixture
def seed_click_record() -> dict[str, Any]:
    """A fresh copy of the seed's click record (tests may mutate it)."""
    return _seed_click_record()


@pytest.fixture
def seed_properties() -> dict[str, Any]:
    """The seed's flattened properties."""
    return dict(_SEED_PROPERTIES)


@pytest.fixture(scope="session")
def translator() -> OutboundTranslator:
    """A translator with the default settings."""
    return OutboundTranslator(OutboundSettings())
