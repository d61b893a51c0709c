"""The accounting arithmetic on hand-built ledgers: loss, duplicates, DLQ matching, per-key order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from .accounting import Arrival, Ledger, ProducedEvent, Row, account, in_order, render_markdown, render_text
from .poison import KINDS, poison_events


def produced(keys: int, per_key: int) -> list[ProducedEvent]:
    return [ProducedEvent(f"k{k}", s, f"k{k}-{s}".encode()) for s in range(per_key) for k in range(keys)]


def ok_arrivals(events: list[ProducedEvent]) -> list[Arrival]:
    return [Arrival(e.key, e.seq, 200) for e in events if not e.poison]


def row_of(ledger: Ledger) -> Row:
    return account(ledger, scenario="t", mode="small")


class TestLoss:
    def test_everything_delivered_once(self) -> None:
        """All events accepted once: nothing lost, no duplicates, order checked on every key."""
        events = produced(3, 4)
        row = row_of(Ledger(events, ok_arrivals(events), dlq=[]))
        assert (row.produced, row.delivered, row.duplicates, row.lost) == (12, 12, 0, 0)
        assert row.keys_order_checked == 3
        assert row.ok

    def test_missing_event_is_lost(self) -> None:
        """An event neither accepted nor dead-lettered is lost, and the row is not ok."""
        events = produced(2, 3)
        row = row_of(Ledger(events, ok_arrivals(events)[:-1], dlq=[]))
        assert row.lost == 1
        assert not row.ok

    def test_failed_request_does_not_count_as_delivered(self) -> None:
        """A request answered 503 delivered nothing: the event is lost unless it arrives later."""
        events = produced(1, 1)
        row = row_of(Ledger(events, [Arrival("k0", 0, 503)], dlq=[]))
        assert (row.delivered, row.lost, row.failed_requests) == (0, 1, 1)
        row = row_of(Ledger(events, [Arrival("k0", 0, 503), Arrival("k0", 0, 200)], dlq=[]))
        assert (row.delivered, row.lost) == (1, 0)

    def test_unanswered_request_does_not_count(self) -> None:
        """A request still being answered (status None) is neither delivered nor a failure."""
        events = produced(1, 1)
        row = row_of(Ledger(events, [Arrival("k0", 0, None)], dlq=[]))
        assert (row.delivered, row.lost, row.failed_requests) == (0, 1, 1)

    def test_duplicates_counted_beyond_first(self) -> None:
        events = produced(1, 2)
        arrivals = [
            Arrival("k0", 0, 200),
            Arrival("k0", 0, 200),
            Arrival("k0", 1, 200),
            Arrival("k0", 0, 200),
        ]
        row = row_of(Ledger(events, arrivals, dlq=[]))
        assert (row.delivered, row.duplicates, row.lost) == (2, 2, 0)
        assert row.order_violations == 0  # a replayed seq 0 after seq 1 is a duplicate, not reordering


class TestDeadLetters:
    def test_poison_in_dlq_is_accounted(self) -> None:
        """Poison found in the DLQ is not lost; the DLQ count equals the poison count."""
        poison = poison_events(len(KINDS))
        events = produced(2, 2) + poison
        row = row_of(Ledger(events, ok_arrivals(events), dlq=[(p.key, p.seq) for p in poison]))
        assert (row.dlq_expected, row.dlq_actual, row.lost) == (len(KINDS), len(KINDS), 0)
        assert row.ok

    def test_missing_poison_is_lost_and_count_differs(self) -> None:
        poison = poison_events(3)
        events = produced(1, 1) + poison
        row = row_of(Ledger(events, ok_arrivals(events), dlq=[(p.key, p.seq) for p in poison[:2]]))
        assert (row.dlq_actual, row.lost) == (2, 1)
        assert not row.ok

    def test_good_event_dead_lettered_is_flagged(self) -> None:
        """Only the injected poison may be dead-lettered: a good event in the DLQ fails the row."""
        events = produced(1, 2)
        row = row_of(Ledger(events, ok_arrivals(events)[:1], dlq=[("k0", 1)]))
        assert (row.lost, row.good_dead_lettered, row.dlq_actual, row.dlq_expected) == (0, 1, 1, 0)
        assert not row.ok

    def test_unrecognised_dlq_record_still_counts(self) -> None:
        events = produced(1, 1)
        row = row_of(Ledger(events, ok_arrivals(events), dlq=[None]))
        assert row.dlq_actual == 1
        assert not row.ok

    def test_delivered_poison_is_flagged(self) -> None:
        poison = poison_events(1)
        row = row_of(Ledger(poison, [Arrival(poison[0].key, 0, 200)], dlq=[(poison[0].key, 0)]))
        assert row.poison_delivered == 1
        assert not row.ok


class TestOrder:
    def test_reordered_key_without_failures_is_a_violation(self) -> None:
        events = produced(1, 3)
        arrivals = [Arrival("k0", 0, 200), Arrival("k0", 2, 200), Arrival("k0", 1, 200)]
        row = row_of(Ledger(events, arrivals, dlq=[]))
        assert (row.keys_order_checked, row.order_violations) == (1, 1)
        assert not row.ok

    def test_reordering_after_a_failure_is_reported_not_judged(self) -> None:
        """A key whose event failed (or went through a retry topic) may be overtaken: counted only."""
        events = produced(2, 3)
        arrivals = [
            Arrival("k0", 0, 503),
            Arrival("k0", 1, 200),
            Arrival("k0", 2, 200),
            Arrival("k0", 0, 200),
            *[Arrival("k1", s, 200) for s in (0, 2, 1)],
        ]
        row = row_of(Ledger(events, arrivals, dlq=[], retried_keys={"k1"}))
        assert (row.keys_order_checked, row.keys_retried, row.keys_reordered) == (0, 2, 2)
        assert row.order_violations == 0
        assert row.ok

    @given(st.lists(st.integers(0, 50), max_size=30))
    def test_in_order_means_strictly_increasing(self, seqs: list[int]) -> None:
        assert in_order(seqs) == (seqs == sorted(set(seqs)))


def test_tables_show_every_row() -> None:
    events = produced(1, 1)
    rows = [
        account(Ledger(events, ok_arrivals(events), dlq=[]), scenario="a", mode="small", notes="note a"),
        account(Ledger(events, [], dlq=[]), scenario="b", mode="small", settled=False),
    ]
    markdown = render_markdown(rows)
    assert markdown.count("\n| a |") + markdown.count("\n| b |") == 2
    assert "NO (timeout)" in markdown
    assert "note a" in markdown
    text = render_text(rows)
    assert len(text.splitlines()) == 4
