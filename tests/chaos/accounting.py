"""No-loss accounting: what was produced against what the API accepted and what the DLQ holds.

Pure functions over plain data, so the arithmetic is tested on its own (`test_accounting.py`)
and a scenario's verdict never depends on how its numbers were gathered.

Identity of an event: `(key, seq)`. The harness recognises a good event at the emulator by the
`segmentId` and `properties.seq` of its call, and a DLQ record by its `cb-original-*` position
headers (or, failing those, its unchanged value bytes).

Per-key order is judged on FIRST arrivals: at-least-once delivery may repeat an event after a
crash, but the first time each event reaches the API must follow the first arrival of every
lower `seq` of its key. A key whose events failed at the API or passed through a retry topic
may legitimately be reordered (a retried event is overtaken by its successors); such keys are
counted separately and reported, not judged.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, slots=True)
class ProducedEvent:
    """One event put on the source topic."""

    key: str
    seq: int
    value: bytes
    poison: bool = False
    """Bad input: must end in the DLQ, never at the API."""


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request the API answered, in arrival order: whose event it carried and the status."""

    key: str
    seq: int
    status: int | None


@dataclass(frozen=True, slots=True)
class Row:
    """One scenario's line in the accounting table."""

    scenario: str
    mode: str
    produced: int
    delivered: int
    """Distinct good events accepted (2xx) at least once."""
    duplicates: int
    """Accepted requests beyond the first for the same event."""
    dlq_expected: int
    dlq_actual: int
    lost: int
    """Produced events neither accepted by the API nor found in the DLQ. Must be 0."""
    poison_delivered: int
    """Poison events that reached the API (must be 0)."""
    good_dead_lettered: int
    """Good events found in the DLQ (must be 0: only the injected poison may be dead-lettered)."""
    keys: int
    keys_order_checked: int
    order_violations: int
    """Keys without any failure whose first arrivals were out of order (must be 0)."""
    keys_retried: int
    keys_reordered: int
    """Keys that saw failures/retries and whose first arrivals were out of order (reported)."""
    failed_requests: int
    """Requests the API answered with a non-2xx status (the injected faults, as seen)."""
    retry_records: int
    peak_rss_mib: float
    elapsed_s: float
    settled: bool
    """Quiescence reached before the timeout."""
    notes: str = ""

    @property
    def ok(self) -> bool:
        return (
            self.settled
            and self.lost == 0
            and self.dlq_actual == self.dlq_expected
            and self.poison_delivered == 0
            and self.good_dead_lettered == 0
            and self.order_violations == 0
        )

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ok": self.ok}


@dataclass(slots=True)
class Ledger:
    """The inputs of one scenario's accounting, gathered after quiescence."""

    produced: Sequence[ProducedEvent]
    arrivals: Sequence[Arrival]
    dlq: Sequence[tuple[str, int] | None]
    """One entry per DLQ record: the produced event it is (by original position or bytes), or None."""
    retried_keys: set[str] = field(default_factory=set)
    retry_records: int = 0


def _first_arrival_order(arrivals: Iterable[Arrival]) -> dict[str, list[int]]:
    """Per key, the seqs in the order of their first accepted arrival."""
    seen: set[tuple[str, int]] = set()
    order: dict[str, list[int]] = {}
    for a in arrivals:
        if not _accepted(a.status) or (a.key, a.seq) in seen:
            continue
        seen.add((a.key, a.seq))
        order.setdefault(a.key, []).append(a.seq)
    return order


def _accepted(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def in_order(seqs: Sequence[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(seqs))


def failed_keys(arrivals: Iterable[Arrival], retried_keys: Iterable[str]) -> set[str]:
    """Keys that saw a non-2xx answer or a retry-topic record: reordering is allowed there."""
    failed = {a.key for a in arrivals if not _accepted(a.status)}
    return failed | set(retried_keys)


def account(
    ledger: Ledger,
    *,
    scenario: str,
    mode: str,
    peak_rss_mib: float = 0.0,
    elapsed_s: float = 0.0,
    settled: bool = True,
    notes: str = "",
) -> Row:
    """The accounting row for one scenario."""
    good = {(e.key, e.seq) for e in ledger.produced if not e.poison}
    poison = {(e.key, e.seq) for e in ledger.produced if e.poison}
    accepted = Counter((a.key, a.seq) for a in ledger.arrivals if _accepted(a.status))
    delivered = good & set(accepted)
    duplicates = sum(n - 1 for ident, n in accepted.items() if ident in good)
    in_dlq = {ident for ident in ledger.dlq if ident is not None}
    lost = len({(e.key, e.seq) for e in ledger.produced} - delivered - in_dlq)

    order = _first_arrival_order(a for a in ledger.arrivals if (a.key, a.seq) in good)
    failing = failed_keys(ledger.arrivals, ledger.retried_keys)
    checked = [k for k in order if k not in failing]
    retried = [k for k in order if k in failing]
    return Row(
        scenario=scenario,
        mode=mode,
        produced=len(ledger.produced),
        delivered=len(delivered),
        duplicates=duplicates,
        dlq_expected=len(poison),
        dlq_actual=len(ledger.dlq),
        lost=lost,
        poison_delivered=len(poison & set(accepted)),
        good_dead_lettered=len(good & in_dlq),
        keys=len({e.key for e in ledger.produced if not e.poison}),
        keys_order_checked=len(checked),
        order_violations=sum(not in_order(order[k]) for k in checked),
        keys_retried=len(retried),
        keys_reordered=sum(not in_order(order[k]) for k in retried),
        failed_requests=sum(not _accepted(a.status) for a in ledger.arrivals),
        retry_records=ledger.retry_records,
        peak_rss_mib=round(peak_rss_mib, 1),
        elapsed_s=round(elapsed_s, 1),
        settled=settled,
        notes=notes,
    )


COLUMNS: tuple[tuple[str, str], ...] = (
    ("scenario", "scenario"),
    ("mode", "mode"),
    ("produced", "produced"),
    ("delivered", "delivered (unique)"),
    ("duplicates", "dup"),
    ("dlq", "DLQ exp/act"),
    ("lost", "lost"),
    ("order", "order-checked keys (violations)"),
    ("reordered", "retried keys (reordered)"),
    ("failed_requests", "non-2xx"),
    ("retry_records", "retry recs"),
    ("peak_rss_mib", "peak RSS MiB"),
    ("elapsed_s", "s"),
    ("ok", "ok"),
)


def _cells(row: Row) -> dict[str, str]:
    values = row.as_dict()
    return {
        **{k: str(v) for k, v in values.items()},
        "dlq": f"{row.dlq_expected}/{row.dlq_actual}",
        "order": f"{row.keys_order_checked} ({row.order_violations})",
        "reordered": f"{row.keys_retried} ({row.keys_reordered})",
        "ok": "yes" if row.ok else ("NO" if row.settled else "NO (timeout)"),
    }


def render_markdown(rows: Sequence[Row], notes: Mapping[str, str] | None = None) -> str:
    """A Markdown table, one line per scenario; notes (per scenario) listed underneath."""
    header = "| " + " | ".join(title for _, title in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    lines = [header, rule]
    for row in rows:
        cells = _cells(row)
        lines.append("| " + " | ".join(cells[name] for name, _ in COLUMNS) + " |")
    extra = [f"* `{r.scenario}` ({r.mode}): {r.notes}" for r in rows if r.notes]
    if notes:
        extra += [f"* {k}: {v}" for k, v in notes.items()]
    if extra:
        lines += ["", *extra]
    return "\n".join(lines)


def render_text(rows: Sequence[Row]) -> str:
    """A fixed-width table for the terminal."""
    table = [[title for _, title in COLUMNS]]
    for row in rows:
        cells = _cells(row)
        table.append([cells[name] for name, _ in COLUMNS])
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    out = []
    for n, line in enumerate(table):
        out.append(
            "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(line))
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
