"""`cordial-bridge translate --direction outbound`: one output line per input line, exit 0."""

from __future__ import annotations

import orjson
from click.testing import CliRunner

from processor.cli import cli

SEED_CLICK = (
    b'{"action":"click","time":"2021-10-22T16:11:48+0000","bmID":"45:6172e28c897f2011ab137761:ot",'
    b'"cID":"5c673e6b10986b7e3cd505d1","mcID":"45:6172e28c897f2011ab137761:ot:5c673e6b10986b7e3cd505d1:1",'
    b'"first":true,"lTags":["threadsdemo"],"_id":"6172e2c81815fd55160c82b1","message_name":"Fall Sale",'
    b'"subject":"Fall Sale 10% Off","d":{"type":"computer","robot":false,"bot_score":18},'
    b'"properties":{"foo":"bar"},"system_properties":{"ed":"","mTags":["test1","test2"],"link":"",'
    b'"rl":"$utm_source=test1"}}'
)

SEED_CLICK_OUT = (
    b'{"line":1,"results":[{"message":{"type":"track","event":"Email Link Clicked",'
    b'"anonymousId":"5c673e6b10986b7e3cd505d1","timestamp":"2021-10-22T16:11:48.000Z",'
    b'"messageId":"cordial-6172e2c81815fd55160c82b1","properties":{"action":"click",'
    b'"bmID":"45:6172e28c897f2011ab137761:ot","cID":"5c673e6b10986b7e3cd505d1",'
    b'"mcID":"45:6172e28c897f2011ab137761:ot:5c673e6b10986b7e3cd505d1:1","first":true,"lTags_0":"threadsdemo",'
    b'"_id":"6172e2c81815fd55160c82b1","d_type":"computer","d_robot":false,"d_bot_score":18,'
    b'"properties_foo":"bar","system_properties_ed":"","system_properties_mTags_0":"test1",'
    b'"system_properties_mTags_1":"test2","system_properties_rl":"$utm_source=test1",'
    b'"campaign_id":"45:6172e28c897f2011ab137761:ot",'
    b'"email_id":"45:6172e28c897f2011ab137761:ot:5c673e6b10986b7e3cd505d1:1","campaign_name":"Fall Sale",'
    b'"email_subject":"Fall Sale 10% Off","link_url":"$utm_source=test1"},'
    b'"context":{"library":{"name":"cordial-bridge","version":"0.1.0"},"source":"cordial"},'
    b'"integrations":{"Cordial":false,"Cordial (Actions)":false}}}]}'
)


def _run(stdin: bytes, *args: str) -> tuple[int, list[bytes]]:
    result = CliRunner().invoke(cli, ["translate", "--direction", "outbound", *args], input=stdin)
    return result.exit_code, result.stdout_bytes.splitlines()


def test_message_line_exact():
    code, lines = _run(SEED_CLICK + b"\n")
    assert code == 0
    assert lines == [SEED_CLICK_OUT]


def test_skipped_and_error_lines_exact_and_exit_zero():
    stdin = b"\n".join(
        [
            b'{"action":"open","cID":"c1","origin":"segment"}',
            b"not json",
            b"[1,2]",
            b'{"action":"open"}',
            b'{"action":"x","cID":"c","time":"yesterday"}',
            b'{"action":"x","cID":"c","blob":"' + b"y" * 33_000 + b'"}',
            b'{"action":"Cart Viewed","cID":"c2","_id":"e2"}',
        ]
    )
    code, lines = _run(stdin + b"\n")
    assert code == 0
    assert len(lines) == 7
    assert lines[0] == b'{"line":1,"results":[],"skipped":"blocked_recursion"}'
    assert lines[1].startswith(b'{"line":2,"error":{"class":"invalid_json","message":"not JSON: ')
    assert lines[2] == (
        b'{"line":3,"error":{"class":"invalid_record",'
        b'"message":"a Cordial event record must be a JSON object, got array"}}'
    )
    assert lines[3] == (
        b'{"line":4,"error":{"class":"missing_identifier",'
        b'"message":"record has neither `cID` nor the Segment id attribute `segment_id`"}}'
    )
    assert lines[4] == (
        b'{"line":5,"error":{"class":"validation",'
        b'"message":"`time` is not a usable timestamp: Invalid isoformat string: \'yesterday\'"}}'
    )
    error = orjson.loads(lines[5])
    assert error["line"] == 6
    assert error["error"]["class"] == "message_too_large"
    assert error["error"]["message"].endswith("over the 32000-byte limit")
    assert lines[6] == (
        b'{"line":7,"results":[{"message":{"type":"track","event":"Cart Viewed","anonymousId":"c2",'
        b'"messageId":"cordial-e2","properties":{"action":"Cart Viewed","cID":"c2","_id":"e2"},'
        b'"context":{"library":{"name":"cordial-bridge","version":"0.1.0"},"source":"cordial"},'
        b'"integrations":{"Cordial":false,"Cordial (Actions)":false}}}]}'
    )


def test_config_file_filters_and_renames(tmp_path):
    config = tmp_path / "bridge.yaml"
    config.write_text(
        "outbound:\n"
        "  event_names:\n"
        "    email:\n"
        "      open: Email Viewed\n"
        "  filters:\n"
        "    email:\n"
        "      mode: block\n"
        "      events: [Email Link Clicked]\n"
    )
    stdin = b'{"action":"open","cID":"c","mcID":"m"}\n{"action":"click","cID":"c","mcID":"m"}\n'
    code, lines = _run(stdin, "--config", str(config))
    assert code == 0
    assert orjson.loads(lines[0])["results"][0]["message"]["event"] == "Email Viewed"
    assert lines[1] == b'{"line":2,"results":[],"skipped":"filtered"}'


def test_bad_outbound_config_exits_2(tmp_path):
    config = tmp_path / "bridge.yaml"
    config.write_text("outbound:\n  filters:\n    email:\n      mode: all\n      events: [x]\n")
    result = CliRunner().invoke(
        cli, ["translate", "--direction", "outbound", "--config", str(config)], input=b""
    )
    assert result.exit_code == 2
    assert "config error" in result.stderr


def test_empty_input_prints_nothing():
    assert _run(b"") == (0, [])
