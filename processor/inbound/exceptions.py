"""The one exception the inbound translator raises internally.

Deep helpers (structure checks, identity) raise `TranslationError`; `InboundTranslator.translate`
catches exactly this type and returns a `Rejected` with the same class and message. Anything
else escaping is a bug and fails loudly in tests.
"""

from __future__ import annotations

from processor.errors import ErrorClass


class TranslationError(Exception):
    """A message that can never be translated: it becomes `Rejected(error_class, message)`."""

    def __init__(self, error_class: ErrorClass, message: str) -> None:
        self.error_class = error_class
        self.message = message
        super().__init__(message)
