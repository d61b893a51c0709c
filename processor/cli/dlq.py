"""`cordial-bridge dlq stats|inspect|replay`: look at the dead-letter topics and replay them (SPEC §6)."""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

import click

from processor.cli.common import EXIT_FAILURE, config_option, load_or_exit
from processor.codecs import ValueCodec, make_codec
from processor.config.settings import Settings
from processor.runtime import headers as h
from processor.runtime.dlq_scan import (
    DlqError,
    DlqFilter,
    DlqRecord,
    collect_stats,
    committed_positions,
    describe,
    now_ms,
    parse_time,
    partitions_of,
    scan,
    scan_consumer,
)
from processor.runtime.replay import ReplayOptions, make_replayer, replay_group
from processor.runtime.retry import dlq_topic

F = TypeVar("F", bound=Callable[..., Any])
DirectionChoice = Literal["inbound", "outbound", "both"]
PROGRESS_MIN_RECORDS = 200


def _direction_option(func: F) -> F:
    return click.option(
        "--direction",
        type=click.Choice(["inbound", "outbound", "both"]),
        default="both",
        show_default=True,
        help="Which DLQ: segment-inbound.dlq (inbound), cordial-outbound.dlq (outbound) or both.",
    )(func)


def _filter_options(func: F) -> F:
    options = [
        click.option("--error-class", "error_classes", multiple=True, help="cb-error-class (repeatable)."),
        click.option(
            "--status", "statuses", multiple=True, help="HTTP status: 503, 5xx or none (repeatable)."
        ),
        click.option(
            "--action", "actions", multiple=True, help="cb-action, e.g. upsertContact (repeatable)."
        ),
        click.option("--key", "keys", multiple=True, help="Record key (repeatable)."),
        click.option("--since", help="Dead-lettered at or after: ISO time or a duration ago (2h, 30m, 7d)."),
        click.option("--until", help="Dead-lettered before: ISO time or a duration ago."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _build_filter(
    error_classes: tuple[str, ...],
    statuses: tuple[str, ...],
    actions: tuple[str, ...],
    keys: tuple[str, ...],
    since: str | None,
    until: str | None,
) -> DlqFilter:
    now = now_ms()
    bounds: dict[str, int | None] = {}
    for name, text in (("since", since), ("until", until)):
        try:
            bounds[name] = None if text is None else parse_time(text, now=now)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=f"--{name}") from None
    return DlqFilter(
        error_classes=frozenset(error_classes),
        statuses=frozenset(statuses),
        actions=frozenset(actions),
        keys=frozenset(keys),
        since_ms=bounds["since"],
        until_ms=bounds["until"],
    )


def _topics(settings: Settings, direction: str) -> list[tuple[str, str]]:
    """(direction, DLQ topic) pairs for `--direction`."""
    pairs = [
        ("inbound", dlq_topic(settings.topics.segment_inbound.name)),
        ("outbound", dlq_topic(settings.topics.cordial_outbound.name)),
    ]
    return [pair for pair in pairs if direction in (pair[0], "both")]


@contextmanager
def _failures() -> Iterator[None]:
    """A DLQ or broker problem → a message on stderr and exit 1 (no traceback)."""
    try:
        yield
    except DlqError as exc:
        click.echo(f"dlq: {exc}", err=True)
        raise SystemExit(EXIT_FAILURE) from exc


@click.group(name="dlq")
def dlq() -> None:
    """Count, show and replay the dead-letter topics (`<topic>.dlq`)."""


@dlq.command(name="stats")
@config_option
@_direction_option
@_filter_options
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def stats(config_path: str | None, direction: str, output: str, **filters: Any) -> None:
    """Counts by error class, action, status and age; `replay_pending` = not yet replayed."""
    settings = load_or_exit(config_path)
    dlq_filter = _build_filter(**filters)
    results = []
    with _failures():
        consumer = scan_consumer(settings.kafka, replay_group(settings.kafka.group_id))
        try:
            for _, topic in _topics(settings, direction):
                committed = committed_positions(consumer, topic, partitions_of(consumer, topic))
                results.append(
                    collect_stats(
                        topic, scan(consumer, topic), now=now_ms(), dlq_filter=dlq_filter, committed=committed
                    )
                )
        finally:
            consumer.close()
    if output == "json":
        click.echo(json.dumps([r.as_dict() for r in results], indent=2))
        return
    for result in results:
        data = result.as_dict()
        click.echo(f"{result.topic}: {result.total} records, {result.replay_pending} not yet replayed")
        if result.total:
            click.echo(f"  oldest {data['oldest']}  newest {data['newest']}")
        for label, key in (
            ("error class", "by_error_class"),
            ("action", "by_action"),
            ("status", "by_status"),
            ("age", "by_age"),
        ):
            counts = data[key]
            if counts:
                click.echo(f"  {label:<12} " + ", ".join(f"{name} {n}" for name, n in counts.items()))


class _Codecs:
    """The value codec of each original topic configured as Avro (JSON/base64 otherwise)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cache: dict[str, ValueCodec | None] = {}

    def for_record(self, rec: DlqRecord) -> ValueCodec | None:
        topic = rec.original_topic or ""
        if topic not in self._cache:
            topics = self.settings.topics
            match = [t for t in (topics.segment_inbound, topics.cordial_outbound) if t.name == topic]
            codec = None
            if match and match[0].value_format == "avro":
                codec = make_codec(match[0], topics.schema_registry)
            self._cache[topic] = codec
        return self._cache[topic]


def _text_view(view: dict[str, Any]) -> str:
    lines = [f"── {view['dlq']}  at {view['timestamp']}  key={view['key']!r}"]
    lines += [f"   {name}: {value}" for name, value in view["headers"].items()]
    value = view["value"]
    if view["value_format"] == "base64":
        lines.append(f"   value (base64): {value}")
    else:
        pretty = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        lines.append(f"   value ({view['value_format']}):")
        lines += ["     " + line for line in pretty.splitlines()]
    return "\n".join(lines)


@dlq.command(name="inspect")
@config_option
@_direction_option
@_filter_options
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Records to show.")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def inspect(config_path: str | None, direction: str, limit: int, output: str, **filters: Any) -> None:
    """Show DLQ records with their headers and decoded values (JSON lines with --format json)."""
    settings = load_or_exit(config_path)
    dlq_filter = _build_filter(**filters)
    codecs = _Codecs(settings)
    shown = 0
    with _failures():
        consumer = scan_consumer(settings.kafka, replay_group(settings.kafka.group_id))
        try:
            for _, topic in _topics(settings, direction):
                if shown >= limit:
                    break
                for rec in scan(consumer, topic):
                    if not dlq_filter.matches(rec):
                        continue
                    view = describe(rec, codecs.for_record(rec))
                    if output == "json":
                        click.echo(json.dumps(view, ensure_ascii=False, default=str))
                    else:
                        click.echo(_text_view(view))
                    shown += 1
                    if shown >= limit:
                        break
        finally:
            consumer.close()
    if output == "text":
        click.echo(f"{shown} record(s) shown", err=True)


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*s)?\s*$")


def _parse_rate(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    match = _RATE.match(value)
    if not match or float(match.group(1)) <= 0:
        raise click.BadParameter("a positive number of records per second, e.g. 100 or 100/s")
    return float(match.group(1))


@dlq.command(name="replay")
@config_option
@_direction_option
@_filter_options
@click.option("--dry-run", is_flag=True, help="Count what would be replayed; produce and commit nothing.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Replay at most N records.")
@click.option("--rate", callback=_parse_rate, default=None, help="At most R records per second (R or R/s).")
@click.option(
    "--include-replayed",
    is_flag=True,
    help=f"Also replay records carrying {h.REPLAYED} (they failed again after an earlier replay).",
)
@click.option("--from-beginning", is_flag=True, help="Ignore saved progress: rescan the whole DLQ.")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def replay(
    config_path: str | None,
    direction: str,
    dry_run: bool,
    limit: int | None,
    rate: float | None,
    include_replayed: bool,
    from_beginning: bool,
    output: str,
    **filters: Any,
) -> None:
    """Produce matching DLQ records to their original topic (key, value kept; cb-replayed added).

    Resumable: progress is committed (group `<group_id>-dlq-replay`) only after the broker
    acknowledged the replayed records, so a second run sends nothing already sent.
    """
    settings = load_or_exit(config_path)
    dlq_filter = _build_filter(**filters)
    results = []
    remaining = limit
    with _failures():
        for name, topic in _topics(settings, direction):
            if remaining is not None and remaining <= 0:
                break
            options = ReplayOptions(
                dry_run=dry_run,
                limit=remaining,
                rate_per_s=rate,
                include_replayed=include_replayed,
                from_beginning=from_beginning,
            )
            replayer = make_replayer(settings.kafka, topic=topic, direction=name, dry_run=dry_run)
            try:
                with _progress(output, topic, functools.partial(replayer.estimate, options)) as on_scanned:
                    result = replayer.run(dlq_filter, options, on_scanned=on_scanned)
            finally:
                replayer.close()
            results.append(result)
            if remaining is not None:
                remaining -= result.matched
    if output == "json":
        click.echo(json.dumps([r.as_dict() for r in results], indent=2))
        return
    for result in results:
        verb = "would replay" if result.dry_run else "replayed"
        targets = ", ".join(f"{t} {n}" for t, n in result.by_topic.items()) or "-"
        click.echo(
            f"{result.topic}: {verb} {result.replayed} of {result.scanned} scanned ({targets}); "
            f"skipped {result.skipped_replayed} already replayed, "
            f"{result.unroutable} not replayable (no original topic or value not kept)"
        )


@contextmanager
def _progress(
    output: str, topic: str, estimate: Callable[[], int]
) -> Iterator[Callable[[DlqRecord], None] | None]:
    """A progress bar on a terminal (stderr) for long replays, advanced per scanned record."""
    if output != "text" or not sys.stderr.isatty():
        yield None
        return
    total = estimate()
    if total < PROGRESS_MIN_RECORDS:
        yield None
        return
    with click.progressbar(length=total, label=f"replaying {topic}", file=sys.stderr, show_pos=True) as bar:

        def advance(_rec: DlqRecord) -> None:
            bar.update(1)

        yield advance
