"""A 2,000-line orders load against `pbload emulator serve` over real HTTP, under injected faults.

Each scenario ends with every row in a final status and the emulator holding exactly one order per
client order ID (one product per SKU, for the products scenario): nothing lost, nothing loaded twice
(checked through the search API).
"""

from __future__ import annotations

import signal
from collections import Counter

import pytest

from tests.faultsuite import (
    SKUS,
    ServedEmulator,
    loader_env,
    orders_workbook,
    products_workbook,
    run_loader,
    start_loader,
    statuses,
)

LINES = 2_000
LOADED = {"CREATED", "UNCHANGED", "UPDATED"}


@pytest.fixture
def served(tmp_path):
    with ServedEmulator() as emulator:
        env = loader_env(tmp_path / "state", PBLOAD_MAX_ATTEMPTS="12")
        code, output = run_loader(
            [
                "load",
                str(products_workbook(tmp_path / "products.xlsx")),
                "--base-url",
                emulator.url,
                "--env",
                "local",
            ],
            env,
        )
        assert code == 0, output
        yield emulator, env


def load_orders(tmp_path, emulator, env, *extra):
    path, keys = orders_workbook(tmp_path / "orders.xlsx", LINES)
    args = ["load", str(path), "--base-url", emulator.url, "--env", "local", "--chunk-size", "100", *extra]
    return path, keys, args


def assert_exactly_once(emulator, keys, result):
    held = Counter(emulator.client_order_ids())
    assert sorted(held) == sorted(keys), "orders lost or unexpected"
    assert max(held.values()) == 1, "an order was loaded twice"
    counts = statuses(result)
    assert sum(counts.values()) == LINES and set(counts) <= LOADED, counts


def test_errors_and_throttling(tmp_path, served):
    emulator, env = served
    emulator.set_faults(seed=11, error_rate=0.10, throttle_rate=0.05, retry_after_s=0.05)
    # small chunks make enough requests for both kinds of fault to come up (the seed fixes which do)
    path, keys, args = load_orders(tmp_path, emulator, env, "--chunk-size", "20")
    code, output = run_loader(args, env)
    assert code == 0, output
    assert emulator.counts()["error"] > 0 and emulator.counts()["throttle"] > 0
    assert "retried after transient failures" in output
    assert_exactly_once(emulator, keys, path.with_name("orders.result.xlsx"))


def test_answers_lost_after_commit(tmp_path, served):
    emulator, env = served
    emulator.set_faults(seed=12, lost_after_commit_rate=0.05)
    path, keys, args = load_orders(tmp_path, emulator, env)
    code, output = run_loader(args, env)
    assert code == 0, output
    assert emulator.counts()["lost_after_commit"] > 0
    assert_exactly_once(emulator, keys, path.with_name("orders.result.xlsx"))


def test_products_under_errors_and_lost_answers(tmp_path, served):
    # PB does not upsert products: a create retried after its answer was lost meets a duplicate,
    # which pbload must recognise as its own, row by row
    emulator, env = served
    emulator.set_faults(
        seed=16, error_rate=0.10, lost_after_commit_rate=0.10, throttle_rate=0.05, retry_after_s=0.05
    )
    skus = [f"FP-{n:05d}" for n in range(1_000)]
    path = products_workbook(tmp_path / "more-products.xlsx", skus)
    code, output = run_loader(
        ["load", str(path), "--base-url", emulator.url, "--env", "local", "--chunk-size", "50"], env
    )
    assert code == 0, output
    assert emulator.counts()["lost_after_commit"] > 0
    held = Counter(emulator.skus())
    assert sorted(set(held) - set(SKUS)) == skus and max(held.values()) == 1
    counts = statuses(path.with_name("more-products.result.xlsx"), "Products")
    assert sum(counts.values()) == 1_000 and set(counts) <= LOADED, counts


def test_token_expires_mid_run(tmp_path, served):
    emulator, env = served
    emulator.set_faults(seed=13, token_ttl_s=1, latency_ms=20)
    path, keys, args = load_orders(tmp_path, emulator, env, "--concurrency", "2")
    code, output = run_loader(args, env)
    assert code == 0, output
    assert_exactly_once(emulator, keys, path.with_name("orders.result.xlsx"))


def test_killed_five_times_and_resumed(tmp_path, served):
    emulator, env = served
    emulator.set_faults(seed=14, latency_ms=100)  # slow enough for the kills to land mid-run
    path, keys, args = load_orders(tmp_path, emulator, env, "--chunk-size", "50", "--concurrency", "1")
    for n, chunks in enumerate((1, 3, 2, 3, 1)):  # kill after this many more bulk calls went through
        held = emulator.order_count()
        process = start_loader(args if n == 0 else ["resume"], env)
        emulator.wait_for_orders(held + chunks * 50, process)
        assert process.poll() is None, "the load ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
    code, output = run_loader(["resume"], env)
    assert code == 0, output
    assert_exactly_once(emulator, keys, path.with_name("orders.result.xlsx"))


def test_ctrl_c_stops_cleanly_then_resume_finishes(tmp_path, served):
    emulator, env = served
    emulator.set_faults(seed=15, latency_ms=30)
    path, keys, args = load_orders(tmp_path, emulator, env, "--chunk-size", "20", "--concurrency", "1")
    process = start_loader(args, env)
    emulator.wait_for_orders(100, process)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1, output
    assert "Stopping: letting the requests in flight finish" in output
    assert "Run `pbload resume" in output
    stopped = statuses(path.with_name("orders.result.xlsx"))
    assert stopped["NOT SENT"] > 0 and stopped["CREATED"] > 0 and sum(stopped.values()) == LINES
    code, output = run_loader(["resume"], env)
    assert code == 0, output
    assert_exactly_once(emulator, keys, path.with_name("orders.result.xlsx"))


def test_unreachable_at_start_names_the_url(tmp_path):
    path, _ = orders_workbook(tmp_path / "orders.xlsx", 10)
    env = loader_env(tmp_path / "state", PBLOAD_MAX_ATTEMPTS="2")
    code, output = run_loader(["load", str(path), "--base-url", "http://127.0.0.1:9", "--env", "local"], env)
    assert code == 2
    assert "Error: No answer from http://127.0.0.1:9 after 2 attempts" in output
