"""The demo summary: one row per direction with the four outcomes, and an honest status line."""

from __future__ import annotations

from processor.demo.summary import DirectionReport, render_summary, render_table


def _reports() -> list[DirectionReport]:
    return [
        DirectionReport(
            "inbound",
            44,
            61,
            5,
            3,
            1,
            expected_delivered=61,
            dead_letter_classes={"invalid_json": 1, "validation": 1, "missing_identifier": 1},
        ),
        DirectionReport("outbound", 44, 38, 2, 3, 1, expected_delivered=40),
    ]


def test_table_has_a_row_per_direction_with_every_count() -> None:
    lines = render_table(_reports()).splitlines()
    assert lines[0].split() == [
        "direction",
        "published",
        "delivered",
        "retried",
        "dead-lettered",
        "blocked/skipped",
    ]
    assert lines[2].split() == ["inbound", "44", "61/61", "5", "3", "1"]
    assert lines[3].split() == ["outbound", "44", "38/40", "2", "3", "1"]


def test_summary_lists_reasons_links_and_status() -> None:
    text = render_summary(
        _reports(), elapsed_s=12.34, links={"metrics": "http://127.0.0.1:1/metrics"}, finished=True
    )
    assert "inbound dead-letter reasons: invalid_json 1, missing_identifier 1, validation 1" in text
    assert "metrics: http://127.0.0.1:1/metrics" in text
    assert text.splitlines()[-1] == "all records accounted for in 12.3 s"


def test_summary_says_when_it_timed_out() -> None:
    text = render_summary(_reports(), elapsed_s=1, links={}, finished=False)
    assert "TIMED OUT" in text
    assert not _reports()[1].complete
    assert _reports()[0].complete
