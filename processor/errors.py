"""Exceptions and the closed set of error names.

::

    BridgeError
     ├── ConfigError          bad configuration; the CLI exits 2 and names file:line:column
     ├── TriggerSyntaxError   a subscription trigger that does not parse (a ConfigError)
     └── WorkerError          a condition that stops a worker (broker unusable, …)

`ErrorClass` names every way a record can fail. The same strings appear in the
`cb-error-class` header, in metric labels, in log fields and in `translate` output,
so tooling can rely on them.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorClass(StrEnum):
    """Why a record (or one action of it) failed. Closed set: add here, nowhere else."""

    # input that can never succeed
    INVALID_JSON = "invalid_json"
    INVALID_MESSAGE = "invalid_message"
    INVALID_RECORD = "invalid_record"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_IDENTIFIER = "missing_identifier"
    INVALID_IDENTIFIER = "invalid_identifier"
    VALIDATION = "validation"
    MESSAGE_TOO_LARGE = "message_too_large"
    DESERIALIZATION = "deserialization"
    # answers from the APIs
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    HTTP_429 = "http_429"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    AUTH = "auth"
    RETRIES_EXHAUSTED = "retries_exhausted"


def http_error_class(status: int) -> ErrorClass:
    """The error class for an HTTP status that is not a success."""
    if status == 429:
        return ErrorClass.HTTP_429
    if status in (401, 403):
        return ErrorClass.AUTH
    if status >= 500:
        return ErrorClass.HTTP_5XX
    return ErrorClass.HTTP_4XX


class BridgeError(Exception):
    """Root of every exception this package raises on purpose."""


class ConfigError(BridgeError):
    """Configuration that cannot be used. `where` is `file:line:column` when known."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class TriggerSyntaxError(ConfigError):
    """A subscription trigger that does not parse; `line`/`column` are 1-based within the trigger."""

    def __init__(self, message: str, *, text: str, line: int, column: int) -> None:
        self.text = text
        self.line = line
        self.column = column
        super().__init__(f"{message} at line {line}, column {column}: {text!r}")


class WorkerError(BridgeError):
    """A condition that stops a worker."""
