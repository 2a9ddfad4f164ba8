"""Setup shared by the tests and the benchmarks: the ledger's clock, set by hand,
`biv serve` started on a free loopback port, and a large exchange file's lines.

Plain Python, no pytest or hypothesis, so that `benchmarks/` imports it as the
tests do (`from tests.builders import Clock`) instead of keeping a copy.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

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


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def biv_serve(
    url: str,
    *options: str,
    wait: float = 30,
    stderr: IO[Any] | int = subprocess.DEVNULL,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """`biv serve` on `url` in a process of its own on a free loopback port; yields its base
    URL once it answers (within `wait` seconds); stops it after."""
    import httpx

    port = port or free_port()
    command = [sys.executable, "-m", "biv_adapters.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--store", url, *options],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        env=dict(env) if env is not None else None,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"biv serve exited with {process.returncode}")
            try:
                httpx.get(base + "/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
            process.wait()


EXCHANGE_GROUPS_PER_AGREEMENT = 4
EXCHANGE_CHILDREN_PER_GROUP = 6
EXCHANGE_SESSIONS_PER_GROUP = 40


def exchange_lines(total: int) -> list[dict[str, Any]]:
    """`total` lines of agreements, each with funding and groups, their children and sessions."""
    lines: list[dict[str, Any]] = []
    number = 0
    while len(lines) < total:
        number += 1
        case = f"Dnr 2090-{number}"
        lines.append(
            {
                "id": f"big/{case}/conclude",
                "command": "conclude_agreement",
                "case_number": case,
                "title": f"Barngrupper {number}",
                "municipality": "Kommunen",
                "partner": "Föreningen",
                "start": "2023-01-01",
                "end": "2024-12-31",
                "notice_months": 6,
                "decided_on": "2023-01-01",
            }
        )
        lines.append(
            {
                "id": f"big/{case}/funding",
                "command": "set_funding",
                "case_number": case,
                "party": "municipality",
                "source": "committee_budget",
                "start": "2023-01-01",
                "end": "2023-12-31",
                "amount": "100000",
                "decided_on": "2023-01-01",
            }
        )
        for g in range(EXCHANGE_GROUPS_PER_AGREEMENT):
            ref = f"G{number}-{g}"
            starts_on = date(2023, 2, 1) + timedelta(days=7 * g)
            lines.append(
                {
                    "id": f"big/{ref}/plan",
                    "command": "plan_group",
                    "group_ref": ref,
                    "case_number": case,
                    "kind": "children",
                    "area": "Ryd",
                    "starts_on": starts_on.isoformat(),
                }
            )
            children = [f"{ref}-C{c}" for c in range(EXCHANGE_CHILDREN_PER_GROUP)]
            for child in children:
                lines.append(
                    {
                        "id": f"big/{child}",
                        "command": "enroll_participant",
                        "group_ref": ref,
                        "participant_ref": child,
                        "enrolled_on": "2023-01-25",
                        "gender": "girl",
                        "age": 9,
                    }
                )
            for s in range(EXCHANGE_SESSIONS_PER_GROUP):
                lines.append(
                    {
                        "id": f"big/{ref}/session-{s}",
                        "command": "hold_session",
                        "group_ref": ref,
                        "held_on": (starts_on + timedelta(days=7 * s)).isoformat(),
                        "attendees": children[: 3 + s % 4],
                    }
                )
    return lines[:total]
