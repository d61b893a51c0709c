"""`cordial-bridge translate`: JSON Lines in → the exact requests that would be sent, no network.

One output line per input line (tooling pipes this into jq):

* inbound:  `{"line": N, "results": [{"action": A, "request": {"method", "path", "body"}} |
             {"action": B, "error": {"class", "message"}}], "skipped"?: reason}`
* outbound: `{"line": N, "results": [{"message": {...}}]}` or `"results": [], "skipped": reason`
* either:   `{"line": N, "error": {"class", "message"}}` for a line that is not usable at all.

Exit code 0 even when lines fail; 2 for a bad config.
"""

from __future__ import annotations

import sys
from typing import IO

import click
import orjson

from processor.cli.common import EXIT_USAGE, config_option, load_or_exit
from processor.codecs.json import decode_json
from processor.errors import ConfigError
from processor.inbound.requests import CordialRequest, InboundTranslation
from processor.outbound.messages import OutboundTranslation
from processor.outcomes import Outcome, Rejected, Skipped


def _error(rejected: Rejected) -> dict[str, object]:
    return {"class": str(rejected.error_class), "message": rejected.message}


def render_inbound(line: int, result: InboundTranslation | Rejected) -> dict[str, object]:
    """The output object for one inbound line."""
    if isinstance(result, Rejected):
        return {"line": line, "error": _error(result)}
    results: list[dict[str, object]] = []
    for item in result.results:
        if isinstance(item, CordialRequest):
            request = {"method": item.method, "path": item.path, "body": item.body}
            results.append({"action": item.action, "request": request})
        else:
            results.append(
                {"action": item.action, "error": {"class": str(item.error_class), "message": item.message}}
            )
    out: dict[str, object] = {"line": line, "results": results}
    if result.skipped is not None:
        out["skipped"] = result.skipped
    return out


def render_outbound(
    line: int, result: OutboundTranslation | Skipped | Rejected | Outcome
) -> dict[str, object]:
    """The output object for one outbound line."""
    if isinstance(result, Rejected):
        return {"line": line, "error": _error(result)}
    if isinstance(result, Skipped):
        return {"line": line, "results": [], "skipped": result.reason}
    if isinstance(result, OutboundTranslation):
        return {"line": line, "results": [{"message": result.message}]}
    raise TypeError(f"unexpected translation result {result!r}")  # pragma: no cover - a bug


def translate_stream(direction: str, source: IO[bytes], sink: IO[bytes], config_path: str | None) -> None:
    """Translate every line of `source` into `sink`."""
    settings = load_or_exit(config_path)
    try:
        if direction == "inbound":
            from processor.inbound.translate import InboundTranslator

            inbound = InboundTranslator(settings.inbound)
            max_bytes = settings.inbound.max_value_bytes
        else:
            from processor.outbound.translate import OutboundTranslator

            outbound = OutboundTranslator(settings.outbound)
            max_bytes = settings.outbound.max_value_bytes
    except ConfigError as exc:
        click.echo(f"config error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from exc

    for number, raw in enumerate(source, start=1):
        value = raw.rstrip(b"\r\n")
        decoded = decode_json(value, max_bytes=max_bytes)
        out: dict[str, object]
        if direction == "inbound":
            out = render_inbound(
                number, decoded if isinstance(decoded, Rejected) else inbound.translate(decoded)
            )
        else:
            out = render_outbound(
                number, decoded if isinstance(decoded, Rejected) else outbound.translate(decoded)
            )
        sink.write(orjson.dumps(out) + b"\n")
    sink.flush()


@click.command()
@click.option("--direction", type=click.Choice(["inbound", "outbound"]), required=True)
@config_option
def translate(direction: str, config_path: str | None) -> None:
    """Read JSON Lines on stdin; print what would be sent, one JSON line per input line."""
    translate_stream(direction, sys.stdin.buffer, sys.stdout.buffer, config_path)
