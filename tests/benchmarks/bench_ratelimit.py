"""Share of a throttling server's rate limit that the sender reaches (a script, not a test).

    python -m tests.benchmarks.bench_ratelimit [ITEMS] [--before TREE]   (default 600 items: ~30 s at 20/s)

Serves the emulator (`pbload emulator serve`, its own process, real HTTP) with `--rate-limit 20` and
10 ms latency, and sends ITEMS products one per bulk call (chunk size 1, concurrency 4) through the
client, its rate limiter and the bulk sender, in a fresh process. Prints requests granted, throttled,
seconds and the share of the limit reached (granted ÷ (seconds × limit)). With `--before TREE` (e.g.
a `git worktree add /tmp/rl-before HEAD`), measures that tree's loader first, alternating, twice each.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

LIMIT_PER_S = 20
LATENCY_MS = 10
RUNS = 2


def child(items: int, emulator_tree: str | None = None) -> dict:
    from loader.api import FulfillmentClient
    from loader.models import Action, Item
    from loader.resources.products import PRODUCTS
    from loader.send.keyed import BulkSender
    from tests.faultsuite import CLIENT, ServedEmulator

    if emulator_tree:  # the served emulator's process runs that tree's code
        os.environ["PYTHONPATH"] = emulator_tree
    with ServedEmulator() as emulator:
        emulator.set_faults(rate_limit_per_s=LIMIT_PER_S, latency_ms=LATENCY_MS)
        to_send = [
            Item(
                "Products",
                f"RL-{n:05}",
                (n + 2,),
                Action.CREATE,
                {"sku": f"RL-{n:05}", "productType": "ITEM", "details": {"description": "Widget"}},
            )
            for n in range(items)
        ]
        with FulfillmentClient(
            emulator.url, CLIENT["PB_CLIENT_ID"], CLIENT["PB_API_KEY"], CLIENT["PB_API_SECRET"]
        ) as client:
            start = time.perf_counter()
            outcomes = BulkSender(client, PRODUCTS, PRODUCTS.api, chunk_size=1, concurrency=4).send(to_send)
            seconds = time.perf_counter() - start
        counts = emulator.counts()
    created = sum(1 for o in outcomes.values() if o.status.name == "CREATED")
    return {
        "created": created,
        "throttled": counts.get("rate_limited", 0),
        "seconds": seconds,
        "share": created / (seconds * LIMIT_PER_S),
    }


def measure(tree: Path, items: int) -> dict:
    """Run the child with `tree`'s loader (and its tests package) first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(items)],
        env=env,
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--child"]:
        print(json.dumps(child(int(args[1]), args[2] if len(args) > 2 else None)))
        return
    before = Path(args[args.index("--before") + 1]) if "--before" in args else None
    items = int(args[0]) if args and args[0].isdigit() else 600
    trees = (
        {"before": before, "after": Path(__file__).resolve().parents[2]}
        if before
        else {"now": Path(__file__).resolve().parents[2]}
    )
    print(
        f"--rate-limit {LIMIT_PER_S}, {LATENCY_MS} ms latency, {items} items one per call, concurrency 4; "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print(f"{'tree':<7} {'run':>3} {'created':>7} {'throttled':>9} {'seconds':>8} {'share':>6}")
    shares: dict[str, list[float]] = {name: [] for name in trees}
    for run in range(1, RUNS + 1):
        for name, tree in trees.items():
            r = measure(tree, items)
            shares[name].append(r["share"])
            print(
                f"{name:<7} {run:>3} {r['created']:>7} {r['throttled']:>9} {r['seconds']:>8.1f} {r['share']:>6.0%}",
                flush=True,
            )
    for name, values in shares.items():
        print(f"{name}: median share of the limit reached {statistics.median(values):.0%}")


if __name__ == "__main__":
    main()
