"""`make bench` judges by ratios to baselines of the same run: verdicts, exit code and the history it appends."""

from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.queries import QueryResult
from benchmarks.run import judge
from benchmarks.targets import (
    Calibration,
    Figure,
    Run,
    Target,
    append_history,
    exit_code,
    history_section,
    targets_table,
)

QUERY = "portal view load"


def query_target(measured_ms: float, baseline_ms: float) -> Target:
    return Target(
        "database",
        Figure(f"{QUERY} p95", measured_ms, "CPU ms"),
        14,
        baseline=Figure("primary-key lookup p95", baseline_ms, "CPU ms"),
    )


def test_a_time_is_judged_by_its_ratio_to_the_baseline_not_by_its_milliseconds() -> None:
    normal_day, three_times_slower = query_target(3.4, 0.34), query_target(10.2, 1.02)
    regression = query_target(6.8, 0.34)

    assert normal_day.value == pytest.approx(10)
    assert three_times_slower.value == pytest.approx(10)
    assert normal_day.met and three_times_slower.met
    assert regression.value == pytest.approx(20)
    assert not regression.met


def test_throughput_must_reach_its_limit_and_the_limit_itself_passes() -> None:
    def throughput(portal: float) -> Target:
        return Target(
            "HTTP",
            Figure("portal page, 1 client", portal, "req/s"),
            0.05,
            baseline=Figure("/healthz, 1 client", 500, "req/s"),
            at_least=True,
        )

    assert throughput(50).met
    assert throughput(25).met  # exactly 0.05
    assert not throughput(20).met
    assert throughput(50).limit_text == "≥ 0.05"


def test_a_figure_without_a_baseline_keeps_its_absolute_limit_and_unit() -> None:
    retained = Target("memory", Figure("retained per page load", 0.005, "MB"), 0.1)
    leaking = replace(retained, measured=Figure("retained per page load", 0.3, "MB"))

    assert retained.value == 0.005
    assert retained.met and not leaking.met
    assert retained.limit_text == "≤ 0.1 MB"


def test_the_run_fails_exactly_when_a_target_is_missed() -> None:
    met, missed = query_target(3.4, 0.34), query_target(6.8, 0.34)

    assert exit_code([]) == 0
    assert exit_code([met, met]) == 0
    assert exit_code([met, missed]) == 1


def measurements(slowdown: float) -> tuple[list[QueryResult], list[str], dict[str, float], dict[str, object]]:
    """What one run measures, on a machine `slowdown` times slower than the normal day."""
    queries = [
        QueryResult(QUERY, 200, 2.9 * slowdown, 3.4 * slowdown, 0.28 * slowdown, 0.36 * slowdown, [], []),
    ]
    preview = {"p95_ms": 4.9 * slowdown, "baseline_p95_ms": 0.4 * slowdown}

    def row(name: str, clients: int, per_second: float, p95_ms: float) -> dict[str, object]:
        return {
            "name": name,
            "concurrency": clients,
            "requests_per_second": per_second / slowdown,
            "p95_ms": p95_ms * slowdown,
            "errors": 0,
        }

    load = [
        row("healthz", 1, 486, 2.6),
        row("portal page", 1, 110, 11),
        row("healthz", 10, 660, 45),
        row("portal page", 10, 110, 100),
        row("API create customer", 10, 330, 60),
        row("API list customers, limit 100", 1, 150, 8),
        row("API retrieve customer", 1, 400, 4),
    ]
    api_plans = [
        "SELECT customers.id …",
        "    SEARCH customers USING INDEX ix_customers_merchant_created (merchant_id=?)",
    ]
    return (
        queries,
        api_plans,
        preview,
        {"load": load, "memory": {"growth_per_get_mb": 0.25, "retained_per_get_mb": 0.005}},
    )


def test_a_slow_day_gives_the_verdicts_of_a_normal_day() -> None:
    normal, slow = judge(*measurements(1)), judge(*measurements(3))

    assert [target.met for target in normal] == [target.met for target in slow]
    assert all(target.met for target in normal)
    assert [target.measured.value for target in normal] != [target.measured.value for target in slow]
    every_time = [target for target in normal if target.measured.unit in {"ms", "CPU ms", "req/s"}]
    assert every_time
    assert all(target.baseline is not None for target in every_time)


def test_a_slower_portal_query_is_missed_whatever_the_machine_speed() -> None:
    queries, api_plans, preview, http = measurements(1)
    slower = [replace(queries[0], p95_ms=queries[0].baseline_p95_ms * 20)]

    (query, *_) = judge(slower, api_plans, preview, http)

    assert query.measured.name == f"{QUERY} p95"
    assert not query.met


def run(date: str, targets: list[Target], note: str = "") -> Run:
    calibration = Calibration(1_000_000, wall_ms=(31, 65), cpu_ms=(31, 33))
    return Run(date, "quick", "10,000 customers", calibration, targets, note)


def test_a_history_section_records_the_ratios_the_absolute_figures_and_the_calibration() -> None:
    section = history_section(
        run("2026-12-02 07:00 UTC", [query_target(3.0, 0.25), query_target(6.0, 0.25)], note="two busy loops")
    )

    assert section.startswith("### 2026-12-02 07:00 UTC · quick run · 1 of 2 targets missed\n")
    assert "10,000 customers" in section
    assert "took 31 ms (CPU 31 ms) at the start and 65 ms (CPU 33 ms) at the end" in section
    assert "Conditions: two busy loops." in section
    row = "| database | portal view load p95: 3 CPU ms | primary-key lookup p95: 0.25 CPU ms | 12.0 | ≤ 14 | yes |"
    assert row in section
    assert "| 24.0 | ≤ 14 | **NO** |" in section


def test_large_ratios_are_written_out_in_full() -> None:
    clock = Target(
        "billing clock",
        Figure("2,000 subscriptions renewed", 250, "s"),
        48,
        baseline=Figure("bulk insert of 2,000 invoice rows", 0.245, "s"),
    )

    assert "| 1,020 | ≤ 48 | **NO** |" in targets_table([clock])


def test_each_run_is_appended_after_the_history_already_written(tmp_path: Path) -> None:
    history = tmp_path / "history.md"
    history.write_text("# Benchmark history\n\nBefore and after the indexes.\n")

    append_history(history, run("2026-12-02 07:00 UTC", [query_target(3.4, 0.34)]))
    append_history(history, run("2026-12-02 08:00 UTC", [query_target(3.4, 0.34)]))

    text = history.read_text()
    assert text.startswith("# Benchmark history\n\nBefore and after the indexes.\n\n### 2026-12-02 07:00 UTC")
    assert text.index("07:00 UTC · quick run · every target met") < text.index("08:00 UTC · quick run")
