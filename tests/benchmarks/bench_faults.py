"""Figures for the fault suite at scale (a script, not a test).

    python -m tests.benchmarks.bench_faults [LINES]      (default 20,000 order lines)

Runs an orders load of LINES lines (two per order) against `pbload emulator serve` in a subprocess,
over real HTTP, once per scenario, and prints per scenario: rows, faults injected, retries, orders
loaded twice and rows lost (an order missing at PB, or a row without a loaded status).
"""

from __future__ import annotations

import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.faultsuite import (
    ServedEmulator,
    loader_env,
    orders_workbook,
    products_workbook,
    retries_of,
    run_loader,
    start_loader,
    statuses,
)

LOADED = {"CREATED", "UNCHANGED", "UPDATED"}
SCENARIOS = {
    "10% 500/503 + 5% 429": dict(seed=1, error_rate=0.10, throttle_rate=0.05, retry_after_s=0.2),
    "5% answers lost after commit": dict(seed=2, lost_after_commit_rate=0.05),
    "token expires every 2 s": dict(seed=3, token_ttl_s=2, latency_ms=20),
    "SIGKILL x5, then resume": dict(seed=4, latency_ms=50),
}


def scenario(name: str, faults: dict, lines: int, folder: Path) -> dict:
    with ServedEmulator() as emulator:
        env = loader_env(folder / "state", PBLOAD_MAX_ATTEMPTS="12")
        code, output = run_loader(
            [
                "load",
                str(products_workbook(folder / "products.xlsx")),
                "--base-url",
                emulator.url,
                "--env",
                "local",
            ],
            env,
        )
        assert code == 0, output
        path, keys = orders_workbook(folder / "orders.xlsx", lines)
        args = ["load", str(path), "--base-url", emulator.url, "--env", "local"]
        emulator.set_faults(**faults)
        start = time.perf_counter()
        retries = 0
        kills = 0
        if name.startswith("SIGKILL"):
            args += ["--concurrency", "1"]  # one chunk at a time, so that each kill lands mid-run
            per_kill = len(keys) // 10
            for n in range(5):
                held = emulator.order_count()
                process = start_loader(args if n == 0 else ["resume"], env)
                emulator.wait_for_orders(held + per_kill, process)
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                    kills += 1
                process.wait()
                process.stdout.close()
            code, output = run_loader(["resume"], env, timeout=1800)
        else:
            code, output = run_loader(args, env, timeout=1800)
        retries += retries_of(output)
        seconds = time.perf_counter() - start
        counts = emulator.counts()
        held = Counter(emulator.client_order_ids())
        rows = statuses(path.with_name("orders.result.xlsx"))
    injected = sum(
        counts.get(k, 0) for k in ("error", "throttle", "drop", "lost_after_commit", "rate_limited")
    )
    return {
        "scenario": name,
        "exit": code,
        "rows": sum(rows.values()),
        "faults": injected + kills,
        "retries": retries,
        "duplicates": sum(n - 1 for n in held.values() if n > 1),
        "lost": len(set(keys) - set(held)) + sum(n for status, n in rows.items() if status not in LOADED),
        "seconds": seconds,
    }


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    print(
        f"{'scenario':<30} {'exit':>4} {'rows':>7} {'faults':>7} {'retries':>8} {'duplicates':>10} {'lost':>5}"
        f" {'seconds':>8}"
    )
    for name, faults in SCENARIOS.items():
        with tempfile.TemporaryDirectory() as folder:
            r = scenario(name, faults, lines, Path(folder))
        print(
            f"{r['scenario']:<30} {r['exit']:>4} {r['rows']:>7,} {r['faults']:>7,} {r['retries']:>8,}"
            f" {r['duplicates']:>10} {r['lost']:>5} {r['seconds']:>8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
