"""structlog set-up: JSON lines off a terminal, pretty console lines on one, secrets scrubbed.

Called once, from the CLI, before workers start. Every line carries what the worker bound with
`structlog.contextvars.bind_contextvars` for the record it is handling (`event_id`, `direction`,
`topic`, `partition`, `offset`), a UTC timestamp and the level. A redaction processor runs after
exception formatting and before rendering, so neither a field, a message nor a traceback can carry
an API key or write key: known secret values are replaced, and credential-shaped text
(`x-api-key: …`, `Basic …`) is scrubbed as a second fence (`processor.runtime.headers.redact`).
Standard-library logging (uvicorn, libraries) goes through the same chain.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from typing import IO, Any, Final, TextIO, cast

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from processor.config.secrets import Secret
from processor.config.settings import OpsSettings
from processor.runtime.headers import redact

REDACTED: Final = "[REDACTED]"
# Types json.dumps would hand to `default` go to `default` under orjson too (same text either way).
_ORJSON_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME

# Field names whose value is a credential whatever it looks like.
_CREDENTIAL_KEY: Final = re.compile(
    r"(?i)^(x[-_]api[-_]key|api[-_]?key|write[-_]?key|authorization|password|passwd|secret|token)$"
)

# Every credential shape `headers.redact` knows contains one of these words: text without any of
# them (and without a known secret) is left alone, which keeps the common log line cheap.
_MAYBE_CREDENTIAL: Final = re.compile(r"(?i)key|authoriz|password|token|basic|bearer")


@functools.lru_cache(maxsize=1024)
def _is_credential_key(key: str) -> bool:
    return _CREDENTIAL_KEY.match(key) is not None


LEVELS: Final = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


class SecretRedactor:
    """Processor that scrubs secret values and credential-shaped strings from every field."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is removed whole.
        self.secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        # One search per string: the credential words or any known secret (case-insensitive is
        # only more cautious; `redact` then does the exact work on the rare hit).
        alternatives = [_MAYBE_CREDENTIAL.pattern.removeprefix("(?i)"), *map(re.escape, self.secrets)]
        self._suspect = re.compile("(?i)" + "|".join(alternatives)).search

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        # Runs for every log line: the common fields (short strings, numbers) take the fast path.
        for key, value in event_dict.items():  # values are replaced in place, keys never change
            if value is None:
                continue
            if type(key) is str and _is_credential_key(key):
                event_dict[key] = REDACTED
            elif type(value) is str:
                if self._suspect(value):
                    event_dict[key] = redact(value, self.secrets)
            elif type(value) is not int and type(value) is not float and type(value) is not bool:
                event_dict[key] = self._clean(key, value)
        return event_dict

    def _clean(self, key: object, value: object) -> Any:
        if value is None:
            return None
        if isinstance(key, str) and _is_credential_key(key):
            return REDACTED
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, bool | int | float):
            return value
        if isinstance(value, bytes | bytearray):
            return self._text(bytes(value).decode("utf-8", errors="replace"))
        if isinstance(value, Secret):
            return REDACTED
        if isinstance(value, Mapping):
            return {k: self._clean(k, v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._clean(None, v) for v in value]
        # Anything else is rendered with str() by the renderer: scrub that text now.
        return self._text(str(value))

    def _text(self, text: str) -> str:
        if self._suspect(text):
            return redact(text, self.secrets)
        return text


def _json_dumps(obj: object, **kwargs: Any) -> str:
    """JSON for one log line. A log call must never crash a worker: keys json cannot write
    (tuples, say) are turned into strings on the rare line that has them."""
    kwargs.setdefault("default", str)
    if len(kwargs) == 1:  # the common line: orjson is several times faster than json
        with contextlib.suppress(TypeError):  # orjson.JSONEncodeError is a TypeError
            return orjson.dumps(obj, default=kwargs["default"], option=_ORJSON_OPTIONS).decode()
    try:
        return json.dumps(obj, ensure_ascii=False, **kwargs)
    except TypeError:
        return json.dumps(_string_keys(obj), ensure_ascii=False, **kwargs)


def _string_keys(obj: object) -> object:
    if isinstance(obj, Mapping):
        return {k if isinstance(k, str) else str(k): _string_keys(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_string_keys(v) for v in obj]
    return obj


def _wants_console(settings: OpsSettings, stream: IO[str]) -> bool:
    if settings.log_format == "console":
        return True
    if settings.log_format == "json":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _level(settings: OpsSettings) -> int:
    return LEVELS.get(settings.log_level.lower(), logging.INFO)


def configure_logging(
    settings: OpsSettings, *, secrets: Iterable[str] = (), stream: IO[str] | None = None
) -> None:
    """Configure structlog (and route stdlib logging through it) for this process.

    `secrets` are the revealed API key / write key values; they are replaced wherever they
    appear. `stream` defaults to stderr; tests pass a StringIO.
    """
    out: IO[str] = sys.stderr if stream is None else stream
    level = _level(settings)
    console = _wants_console(settings, out)
    redactor = SecretRedactor(secrets)

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redactor,
    ]
    renderer: Processor
    if console:
        renderer = structlog.dev.ConsoleRenderer(colors=bool(getattr(out, "isatty", lambda: False)()))
    else:
        renderer = structlog.processors.JSONRenderer(serializer=_json_dumps)

    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        context_class=dict,
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, out)),
        cache_logger_on_first_use=False,
    )
    _configure_stdlib(level, out, shared, renderer)


def _configure_stdlib(level: int, out: IO[str], shared: list[Processor], renderer: Processor) -> None:
    """Send stdlib `logging` records (uvicorn, libraries) through the same processors."""
    handler = logging.StreamHandler(out)
    handler.set_name("cordial-bridge")
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "cordial-bridge":
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
