"""Timing primitives shared by the benchmarks, and the calibration loop that says how fast the machine was.

In-process figures are timed in this thread's CPU time: on a shared machine a wall-clock time also counts the
slices the scheduler gave to other processes, which inflates a 3 ms operation far more often than a 0.3 ms one and
so distorts even a ratio of two figures measured side by side.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

CALIBRATION_ITERATIONS = 1_000_000


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def cpu_ms(action: Callable[[], object]) -> float:
    """Milliseconds of this thread's CPU time that `action` takes."""
    started = time.thread_time()
    action()
    return (time.thread_time() - started) * 1000


def calibration_ms(repeats: int = 5) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of a fixed loop of integer arithmetic (no allocation, no I/O)."""
    wall, cpu = [], []
    for _ in range(repeats):
        wall_started, cpu_started = time.perf_counter(), time.thread_time()
        total = 0
        for number in range(CALIBRATION_ITERATIONS):
            total += number % 7
        wall.append((time.perf_counter() - wall_started) * 1000)
        cpu.append((time.thread_time() - cpu_started) * 1000)
    return statistics.median(wall), statistics.median(cpu)
