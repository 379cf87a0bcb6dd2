"""The service's clock offset from the Date headers of its answers (``clock.ClockOffset``)."""

from __future__ import annotations

import email.utils

import pytest

from jupyter_session_monitor.protocol.clock import ClockOffset, watch


def answer(offset: ClockOffset, *, true_offset: float, sent: float, latency: float) -> None:
    """An answer whose Date the service wrote half way through, truncated to the second."""
    written = sent + latency / 2
    offset.observe(float(int(written + true_offset)), sent, sent + latency)


def test_unknown_until_an_answer_then_within_its_bounds() -> None:
    offset = ClockOffset()
    assert offset.seconds == 0.0 and not offset.known
    answer(offset, true_offset=-600.3, sent=1000.0, latency=0.1)
    assert offset.known and abs(offset.seconds - -600.3) <= 0.6


def test_many_answers_pin_a_whole_second_header_to_a_fraction_of_a_second() -> None:
    offset = ClockOffset()
    for i in range(32):
        answer(offset, true_offset=61.37, sent=1000.0 + i * 0.37, latency=0.05)
    assert offset.seconds == pytest.approx(61.37, abs=0.1)


def test_a_clock_that_was_set_starts_a_new_window() -> None:
    offset = ClockOffset()
    for i in range(10):
        answer(offset, true_offset=5.0, sent=1000.0 + i, latency=0.05)
    for i in range(3):  # three in a row contradict every bound, and agree with each other
        answer(offset, true_offset=-120.0, sent=1020.0 + i, latency=0.05)
    assert offset.seconds == pytest.approx(-120.0, abs=1.0)


def test_one_answer_that_contradicts_the_others_is_set_aside() -> None:
    # #25: one stale or odd Date (a cached answer, another server's clock) reset the window,
    # and every countdown jumped by its error until the next answers narrowed it again.
    offset = ClockOffset()
    for i in range(10):
        answer(offset, true_offset=5.0, sent=1000.0 + i, latency=0.05)
    settled = offset.seconds
    answer(offset, true_offset=-120.0, sent=1020.0, latency=0.05)
    assert offset.seconds == settled
    answer(offset, true_offset=300.0, sent=1021.0, latency=0.05)  # another, unlike the first
    answer(offset, true_offset=-120.0, sent=1022.0, latency=0.05)
    assert offset.seconds == settled
    answer(offset, true_offset=5.0, sent=1023.0, latency=0.05)  # the window holds on
    assert offset.seconds == pytest.approx(5.0, abs=1.0)


def test_headers_that_are_missing_or_malformed_change_nothing() -> None:
    offset = ClockOffset()
    for value in (None, "", "yesterday", "Mon, 07 Dec 2026 12:00:00"):
        offset.observe_header(value, 1000.0, 1000.1)
    assert not offset.known
    offset.observe_header(
        email.utils.formatdate(1_000_000.0, usegmt=True), 1_000_100.0, 1_000_100.1
    )
    assert -100.1 <= offset.seconds <= -99.0  # within the one answer's bounds


def test_watch_adds_one_hook_per_session_and_skips_what_has_none() -> None:
    class Session:
        def __init__(self) -> None:
            self.hooks: dict[str, list[object]] = {"response": []}

    offset, session = ClockOffset(), Session()
    assert watch(session, offset) and watch(session, offset)
    assert len(session.hooks["response"]) == 1
    assert not watch(None, offset) and not watch(object(), offset)


def test_clocks_that_agree_are_not_made_to_differ_by_the_headers_whole_seconds() -> None:
    offset = ClockOffset()
    for i in range(20):
        answer(offset, true_offset=0.0, sent=1000.0 + i * 0.31, latency=0.02)
    assert offset.seconds == 0.0
