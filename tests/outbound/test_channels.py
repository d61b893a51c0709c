"""Channel inference and the action → event-name table (SPEC §4.1), defaults and overrides."""

from __future__ import annotations

import pytest

from processor.config.settings import OutboundSettings
from processor.errors import ConfigError
from processor.outbound.channels import EventNames, infer_channel
from processor.outbound.messages import OutboundTranslation
from processor.outbound.translate import OutboundTranslator

MCID = "45:abc:ot:cid:1"


def _translate(translator, **fields):
    result = translator.translate({"cID": "c1", **fields})
    assert isinstance(result, OutboundTranslation), result
    return result


@pytest.mark.parametrize(
    ("action", "event"),
    [
        ("open", "Email Opened"),
        ("click", "Email Link Clicked"),
        ("optout", "Unsubscribed"),
        ("bounce", "Email Bounced"),
    ],
)
def test_email_events_inferred_from_mcid(translator, action, event):
    result = _translate(translator, action=action, mcID=MCID)
    assert (result.channel, result.message["event"]) == ("email", event)


@pytest.mark.parametrize(
    ("action", "event"),
    [
        ("crdl_app_install", "Application Installed"),
        ("crdl_app_open", "Application Opened"),
        ("crdl_notification_tap", "Push Notification Tapped"),
        ("crdl_deep_link_open", "Deep Link Opened"),
        ("crdl_notification_delivered_in_foreground", "Push Notification Received"),
    ],
)
def test_mobile_events_inferred_from_crdl_prefix(translator, action, event):
    result = _translate(translator, action=action)
    assert (result.channel, result.message["event"]) == ("mobile", event)


def test_unknown_crdl_action_is_mobile_and_keeps_its_name(translator):
    result = _translate(translator, action="crdl_something_new")
    assert (result.channel, result.message["event"]) == ("mobile", "crdl_something_new")


@pytest.mark.parametrize(
    ("channel", "action"),
    [("sms", "message_sent"), ("sms", "click"), ("rest", "message_sent")],
)
def test_sms_and_rest_events_are_unchanged(translator, channel, action):
    result = _translate(translator, action=action, channel=channel)
    assert (result.channel, result.message["event"]) == (channel, action)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"action": "Viewed Product Page"}, id="custom-name"),
        pytest.param({"action": "open"}, id="open-without-mcid"),
        pytest.param({"action": "click", "mcID": ""}, id="click-with-empty-mcid"),
        pytest.param({"action": "click", "mcID": None}, id="click-with-null-mcid"),
        pytest.param({"action": "message_sent"}, id="message-sent-without-channel"),
    ],
)
def test_anything_else_is_custom_and_unchanged(translator, fields):
    result = _translate(translator, **fields)
    assert (result.channel, result.message["event"]) == ("custom", fields["action"])


class TestExplicitChannelWins:
    def test_sms_click_with_mcid_stays_sms(self, translator):
        result = _translate(translator, action="click", channel="sms", mcID=MCID)
        assert (result.channel, result.message["event"]) == ("sms", "click")

    def test_open_on_web_stays_open(self, translator):
        result = _translate(translator, action="open", channel="web", mcID=MCID)
        assert (result.channel, result.message["event"]) == ("web", "open")

    def test_explicit_email_without_mcid_maps(self, translator):
        result = _translate(translator, action="open", channel="email")
        assert (result.channel, result.message["event"]) == ("email", "Email Opened")

    def test_crdl_action_on_custom_channel_is_not_mobile(self, translator):
        result = _translate(translator, action="crdl_app_open", channel="custom")
        assert (result.channel, result.message["event"]) == ("custom", "crdl_app_open")

    def test_channel_is_case_and_space_insensitive(self, translator):
        result = _translate(translator, action="bounce", channel=" Email ")
        assert (result.channel, result.message["event"]) == ("email", "Email Bounced")

    @pytest.mark.parametrize("channel", [None, ""])
    def test_null_or_empty_channel_is_inferred(self, translator, channel):
        result = _translate(translator, action="crdl_app_open", channel=channel)
        assert result.channel == "mobile"


class TestOverrides:
    def test_override_merges_over_defaults(self):
        translator = OutboundTranslator(OutboundSettings(event_names={"email": {"open": "Email Viewed"}}))
        assert _translate(translator, action="open", mcID=MCID).message["event"] == "Email Viewed"
        assert _translate(translator, action="click", mcID=MCID).message["event"] == "Email Link Clicked"

    def test_override_for_sms_and_a_new_channel(self):
        translator = OutboundTranslator(
            OutboundSettings(
                event_names={"sms": {"message_sent": "SMS Sent"}, "Web": {"open": "Web Page Opened"}}
            )
        )
        assert _translate(translator, action="message_sent", channel="sms").message["event"] == "SMS Sent"
        assert (
            _translate(translator, action="message_sent", channel="rest").message["event"] == "message_sent"
        )
        assert _translate(translator, action="open", channel="web").message["event"] == "Web Page Opened"

    def test_defaults_are_not_mutated_by_an_override(self):
        EventNames({"email": {"open": "X"}})
        assert EventNames({}).event_for("email", "open") == "Email Opened"

    @pytest.mark.parametrize(
        "event_names",
        [
            pytest.param({"": {"open": "X"}}, id="empty-channel"),
            pytest.param({"email": {"open": ""}}, id="empty-event"),
            pytest.param({"email": {"open": 3}}, id="non-string-event"),
            pytest.param({"email": ["open"]}, id="not-a-mapping"),
            pytest.param({"email": {"": "X"}}, id="empty-action"),
        ],
    )
    def test_bad_table_is_a_config_error(self, event_names):
        with pytest.raises(ConfigError):
            OutboundTranslator(OutboundSettings(event_names=event_names))


def test_infer_channel_directly():
    assert infer_channel("crdl_app_open", mcid_present=True) == "mobile"
    assert infer_channel("open", mcid_present=True) == "email"
    assert infer_channel("open", mcid_present=False) == "custom"
    assert infer_channel("message_sent", mcid_present=True) == "custom"
