"""Benchmark scripts: each prints figures (paired runs, medians); none is a test."""

from __future__ import annotations

import json
import subprocess
import sys


def in_child(module: str, *args: str) -> dict:
    """Run `python -m MODULE --child ARGS...` in a fresh process, so that its time and peak memory are its own,
    and return the JSON document it prints last."""
    out = subprocess.run(
        [sys.executable, "-m", module, "--child", *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
