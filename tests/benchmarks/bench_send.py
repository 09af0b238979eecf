"""The send phase against its latency ideal, and the share of a rate limit reached (a script, not a test).

    python -m tests.benchmarks.bench_send [ORDERS] [--before TREE] [--after TREE] [--emulator TREE]
                                          [--latencies 0,20,50] [--runs 2] [--no-rate]

Loads one workbook of PRODUCTS products and ORDERS orders of two lines each (default 10,000: 20,000
order lines) with `loader.pipeline.load` into `pbload emulator serve` (its own process, real HTTP,
state in memory) at 0, 20 and 50 ms injected latency. For each it prints the requests of the send
phase (the sender's look-ups and writes of every sheet, counted by the emulator), the wall time of the
send phase (from each sheet's "Sending" progress at 0 rows to its last row), the ratio to the
latency ideal: requests ÷ concurrency × latency (none at 0 ms), and the CPU seconds the loader and
the emulator's process spent in that phase (the emulator's bounds what any sender can reach). Then the share of a `--rate-limit 20`
server reached (`bench_ratelimit`, 10 ms latency). With `--before TREE` (a `git worktree add` of an
earlier commit) each figure is measured for that tree and this one (or `--after TREE`), alternating,
in fresh processes, against one emulator: the before tree's (or `--emulator TREE`'s), so that the
figures compare senders, not servers.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

PRODUCTS = 1_000
CONCURRENCY = 4
LATENCIES_MS = (0, 20, 50)
RUNS = 2
RATE_ITEMS = 400
HERE = Path(__file__).resolve().parents[2]


def workbook(path: Path, orders: int) -> Path:
    """PRODUCTS products, and `orders` orders of two lines each naming them."""
    from tests.faultsuite import ADDRESS
    from tests.helpers import write_workbook

    skus = [f"BS-{n:05d}" for n in range(PRODUCTS)]
    products = [{"SKU": s, "Product Type": "ITEM", "Description": f"Product {s}"} for s in skus]
    lines: list[dict[str, Any]] = []
    for n in range(orders):
        for line in range(2):
            row: dict[str, Any] = {
                "Client Order ID": f"BO-{n:06d}",
                "SKU": skus[(7 * n + line) % PRODUCTS],
                "Quantity": 1 + line,
            }
            if line == 0:
                row.update({"Order Date": datetime(2026, 11, 20, 9, 0), **ADDRESS})
            lines.append(row)
    return write_workbook(path, {"Products": products, "Orders": lines})


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process `pid` so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(path: Path, latency_ms: int, emulator_tree: Path) -> dict:
    """Load `path` into a fresh served emulator (`emulator_tree`'s) at `latency_ms`; the send phase's
    requests and seconds."""
    from loader.pipeline import load
    from loader.settings import Settings
    from tests.faultsuite import CLIENT, ServedEmulator

    phases: dict[str, dict[str, float]] = {}

    os.environ["PYTHONPATH"] = str(emulator_tree)  # the served emulator's process runs that tree's code
    with ServedEmulator() as emulator, tempfile.TemporaryDirectory() as state:
        emulator.set_faults(latency_ms=latency_ms)

        def progress(phase: str, done: int, total: int, failed: int = 0) -> None:
            if not phase.startswith("Sending"):
                return
            now = time.perf_counter()
            if phase not in phases:
                phases[phase] = {"start": now, "requests": emulator.counts()["requests"], "end": now}
                phases[phase]["cpu0"] = time.process_time()
                phases[phase]["server0"] = cpu_seconds(emulator.process.pid)
            phases[phase]["end"] = now
            phases[phase]["cpu"] = time.process_time() - phases[phase]["cpu0"]
            if done == total and "counted" not in phases[phase]:
                phases[phase]["counted"] = emulator.counts()["requests"] - phases[phase]["requests"]
                phases[phase]["server"] = cpu_seconds(emulator.process.pid) - phases[phase]["server0"]

        settings = Settings(
            env="local",
            base_url=emulator.url,
            client_id=CLIENT["PB_CLIENT_ID"],
            api_key=CLIENT["PB_API_KEY"],
            api_secret=CLIENT["PB_API_SECRET"],
            state_dir=Path(state),
            concurrency=CONCURRENCY,
        )
        report = load(path, settings, Path(state) / "result.xlsx", progress=progress)
    requests = sum(p.get("counted", 0) for p in phases.values())
    seconds = sum(p["end"] - p["start"] for p in phases.values())
    ideal = requests / CONCURRENCY * latency_ms / 1000
    return {
        "requests": requests,
        "seconds": seconds,
        "ratio": seconds / ideal if ideal else None,
        "cpu": sum(p["cpu"] for p in phases.values()),
        "server_cpu": sum(p.get("server", 0.0) for p in phases.values()),
        "counts": {k: v for k, v in report.counts().items() if v},
    }


def measure(tree: Path, *args: str) -> dict:
    """Run this script's child with `tree`'s loader (and its tests package) first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, str(Path(__file__)), "--child", *args],
        env=env,
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def rate_share(tree: Path, emulator: Path) -> dict:
    script = HERE / "tests/benchmarks/bench_ratelimit.py"
    out = subprocess.run(
        [sys.executable, str(script), "--child", str(RATE_ITEMS), str(emulator)],
        env={**os.environ, "PYTHONPATH": str(tree)},
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def option(args: list[str], name: str, default: str) -> str:
    return args[args.index(name) + 1] if name in args else default


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--child"]:
        print(json.dumps(child(Path(args[1]), int(args[2]), Path(args[3]))))
        return
    orders = int(args[0]) if args and args[0].isdigit() else 10_000
    before = Path(option(args, "--before", "")) if "--before" in args else None
    latencies = [int(n) for n in option(args, "--latencies", ",".join(map(str, LATENCIES_MS))).split(",")]
    after = Path(option(args, "--after", str(HERE)))
    trees = {"before": before, "after": after} if before else {"now": after}
    # one emulator for every tree, so that the figures compare senders, not servers
    emulator = Path(option(args, "--emulator", str(before or after)))
    print(
        f"{orders:,} orders x 2 lines + {PRODUCTS:,} products, concurrency {CONCURRENCY}, served emulator; "
        f"emulator of {emulator}; load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    print(f"{'tree':<7} {'latency':>7} {'run':>3} {'requests':>8} {'seconds':>8} {'x ideal':>8}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        path = workbook(Path(folder) / "bench-send.xlsx", orders)
        results: dict[tuple[str, int], list[dict]] = {}
        for latency in latencies:
            for run in range(1, int(option(args, "--runs", str(RUNS))) + 1):
                for name, tree in trees.items():
                    r = measure(tree, str(path), str(latency), str(emulator))
                    results.setdefault((name, latency), []).append(r)
                    ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
                    print(
                        f"{name:<7} {latency:>5}ms {run:>3} {r['requests']:>8} {r['seconds']:>8.2f} {ratio:>8}"
                        f"  CPU: loader {r['cpu']:.2f} s, emulator {r['server_cpu']:.2f} s; {r['counts']}",
                        flush=True,
                    )
    for (name, latency), rs in results.items():
        ratios = [r["ratio"] for r in rs if r["ratio"]]
        print(
            f"{name}: {latency} ms: median {statistics.median(r['requests'] for r in rs):.0f} requests, "
            f"{statistics.median(r['seconds'] for r in rs):.2f} s"
            + (f", {statistics.median(ratios):.2f}x the latency ideal" if ratios else ""),
            flush=True,
        )
    if "--no-rate" in args:
        return
    shares: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(RUNS):
        for name, tree in trees.items():
            r = rate_share(tree, emulator)
            shares[name].append(r["share"])
            print(
                f"{name}: --rate-limit 20: {r['created']} created in {r['seconds']:.1f} s, share {r['share']:.0%}"
            )
    for name, values in shares.items():
        print(f"{name}: median share of --rate-limit 20 reached {statistics.median(values):.0%}", flush=True)


if __name__ == "__main__":
    main()
