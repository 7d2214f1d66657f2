"""What `make bench` judges: each figure against a baseline measured in the same run, the verdict and the record.

This machine's speed drifts by 2–3× between runs, so a time in milliseconds says little about the code. A time
divided by a baseline that does the same kind of work at its cheapest (`/healthz` for HTTP routes, a primary-key
lookup for queries, one small fixed component for the live preview), measured beside it, stays put when the whole
machine is slower. Figures that do not depend on machine speed (errors, query plans, megabytes) keep absolute limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    """One absolute measurement, e.g. `Figure("portal page p95, 10 clients", 220.8, "ms")`."""

    name: str
    value: float
    unit: str

    def __str__(self) -> str:
        return f"{self.name}: {_number(self.value)} {self.unit}"


@dataclass(frozen=True)
class Target:
    """A figure with its limit: `measured / baseline` against `limit`, or `measured` itself without a baseline."""

    family: str
    measured: Figure
    limit: float
    baseline: Figure | None = None
    at_least: bool = False  # throughput: higher is better; times, counts and sizes: lower is better

    @property
    def value(self) -> float:
        """The judged number: the ratio to the baseline, or the measured value for speed-independent figures."""
        if self.baseline is None:
            return self.measured.value
        return self.measured.value / self.baseline.value

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    @property
    def limit_text(self) -> str:
        unit = "" if self.baseline is not None else f" {self.measured.unit}"
        return f"{'≥' if self.at_least else '≤'} {self.limit:g}{unit}"


@dataclass(frozen=True)
class Calibration:
    """A fixed pure-Python loop timed at the start and at the end of the run: how fast the machine was.

    Wall-clock time shows how much of the cores other processes took; CPU time shows how fast a core ran.
    """

    iterations: int
    wall_ms: tuple[float, float]  # start, end
    cpu_ms: tuple[float, float]

    def __str__(self) -> str:
        return (
            f"{self.iterations:,} iterations of a pure-Python loop took {self.wall_ms[0]:.0f} ms "
            f"(CPU {self.cpu_ms[0]:.0f} ms) at the start and {self.wall_ms[1]:.0f} ms (CPU {self.cpu_ms[1]:.0f} ms) "
            "at the end"
        )


@dataclass(frozen=True)
class Run:
    """One `make bench` run as history.md records it."""

    date: str
    mode: str  # "full" or "quick"
    volume: str
    calibration: Calibration
    targets: list[Target]
    note: str = ""


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def targets_table(targets: list[Target]) -> str:
    """The one table of targets, with the absolute figures beside each ratio (latest.md, history.md, stdout)."""
    lines = [
        "| family | measured | baseline (same run) | ratio | limit | met |",
        "| --- | --- | --- | ---: | --- | --- |",
    ]
    for target in targets:
        baseline = str(target.baseline) if target.baseline is not None else "none: independent of machine speed"
        ratio = _number(target.value) if target.baseline is not None else ""
        verdict = "yes" if target.met else "**NO**"
        row = (target.family, str(target.measured), baseline, ratio, target.limit_text, verdict)
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def exit_code(targets: list[Target]) -> int:
    """Non-zero exactly when a target is missed; absolute times never decide it."""
    return 0 if all(target.met for target in targets) else 1


def history_section(run: Run) -> str:
    missed = sum(not target.met for target in run.targets)
    verdict = "every target met" if not missed else f"{missed} of {len(run.targets)} targets missed"
    lines = [f"### {run.date} · {run.mode} run · {verdict}", ""]
    lines.append(f"Volume: {run.volume}. Calibration: {run.calibration}.")
    if run.note:
        lines.append(f"Conditions: {run.note}.")
    return "\n".join([*lines, "", targets_table(run.targets)])


def append_history(path: Path, run: Run) -> None:
    """Add the run's section at the end of history.md, keeping everything before it."""
    existing = path.read_text() if path.exists() else "# Benchmark history\n"
    path.write_text(existing.rstrip("\n") + "\n\n" + history_section(run))
