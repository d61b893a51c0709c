"""The demo's closing report: one row per direction, then where things can be looked at."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DirectionReport:
    """What one direction did with the records published to it."""

    direction: str
    published: int
    delivered: int
    """Calls (inbound) or messages (outbound) the API accepted."""
    retried: int
    """Records written to the retry topics."""
    dead_lettered: int
    blocked: int
    """Held back on purpose: recursion blocking, filters, consent, no matching action."""
    expected_delivered: int = 0
    dead_letter_classes: Mapping[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.delivered >= self.expected_delivered


_COLUMNS = ("direction", "published", "delivered", "retried", "dead-lettered", "blocked/skipped")


def render_table(reports: Sequence[DirectionReport]) -> str:
    """A fixed-width table; inbound counts Cordial calls, outbound counts Segment messages."""
    rows = [list(_COLUMNS)]
    for r in reports:
        delivered = f"{r.delivered}/{r.expected_delivered}" if r.expected_delivered else str(r.delivered)
        rows.append(
            [r.direction, str(r.published), delivered, str(r.retried), str(r.dead_lettered), str(r.blocked)]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(widths[i]) for i, cell in enumerate(row) if i]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_summary(
    reports: Sequence[DirectionReport],
    *,
    elapsed_s: float,
    links: Mapping[str, str],
    finished: bool,
) -> str:
    """The whole report: table, dead-letter reasons, links, and whether all work finished."""
    lines = [render_table(reports), ""]
    for r in reports:
        if r.dead_letter_classes:
            reasons = ", ".join(f"{name} {count}" for name, count in sorted(r.dead_letter_classes.items()))
            lines.append(f"{r.direction} dead-letter reasons: {reasons}")
    lines.append("delivered = inbound: Cordial API calls accepted / predicted by `translate`;")
    lines.append("            outbound: Segment messages accepted / predicted.")
    for name, url in links.items():
        lines.append(f"{name}: {url}")
    status = "all records accounted for" if finished else "TIMED OUT before every record was accounted for"
    lines.append(f"{status} in {elapsed_s:.1f} s")
    return "\n".join(lines)
