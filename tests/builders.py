"""Setup shared by the tests and the benchmark: the ledger's clock, set by hand.

Plain Python, no pytest or hypothesis, so that `benchmarks/` imports it as the
tests do (`from tests.builders import Clock`) instead of keeping a copy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MILLISECOND = timedelta(milliseconds=1)


class Clock:
    """A UTC clock the caller sets; each reading moves it on `step` (1 ms), so times differ.

    The tests keep the default step, the same way every run; the benchmark sets
    `step=timedelta(0)` so that a batch is recorded exactly at the time it sets.
    """

    def __init__(
        self, start: datetime = datetime(2024, 1, 1, 12, tzinfo=UTC), step: timedelta = MILLISECOND
    ) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
