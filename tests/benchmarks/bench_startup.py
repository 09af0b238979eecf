"""Benchmark how long `pbload` takes to start (a script, not a test).

    python -m tests.benchmarks.bench_startup [PAIRS] [--all]      (default 15 pairs)

Times whole processes: `python -c "import click"` (the floor: a click CLI cannot start faster) and
`pbload --help`, `pbload load --help`, `pbload --version` (with --all: every command's --help), in
alternating pairs so that the machine's load falls on both alike. Prints the medians and the median of
the pairs' ratios. The console script is run through this interpreter, not through a shell shim.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

FLOOR = ("-c", "import click")
HEADLINE = (("--help",), ("load", "--help"), ("--version",))


def pbload() -> tuple[str, ...]:
    """How to run pbload as a user does: the installed console script, else `python -m loader`."""
    script = Path(sys.executable).with_name("pbload")
    return (str(script),) if script.is_file() else ("-m", "loader")


def seconds(args: tuple[str, ...]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def every_help() -> tuple[tuple[str, ...], ...]:
    from loader.cli import main  # only to name the commands; the timed processes import it themselves

    commands = [(name,) for name in main.commands]
    commands += [("emulator", name) for name in main.commands["emulator"].commands]  # type: ignore[attr-defined]
    return tuple(dict.fromkeys(HEADLINE + tuple((*command, "--help") for command in commands)))  # load once


def measure(args: tuple[str, ...], pairs: int) -> tuple[float, float, float]:
    """Medians of the floor and of `pbload ARGS` over alternating pairs, and the median of their ratios."""
    command = (*pbload(), *args)
    seconds(FLOOR), seconds(command)  # warm the file cache
    floors, runs = [], []
    for n in range(pairs):
        first, second = (FLOOR, command) if n % 2 == 0 else (command, FLOOR)
        a, b = seconds(first), seconds(second)
        floors.append(a if first is FLOOR else b)
        runs.append(b if first is FLOOR else a)
    ratio = statistics.median(r / f for r, f in zip(runs, floors, strict=False))
    return statistics.median(floors), statistics.median(runs), ratio


def main(pairs: int, everything: bool) -> None:
    print(
        f"{pairs} alternating pairs per figure; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    for args in every_help() if everything else HEADLINE:
        floor, run, ratio = measure(args, pairs)
        print(
            f"pbload {' '.join(args):<24} {run * 1000:7.1f} ms   import click {floor * 1000:6.1f} ms   "
            f"ratio {ratio:5.2f}x"
        )


if __name__ == "__main__":
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    main(int(numbers[0]) if numbers else 15, "--all" in sys.argv[1:])
