"""A 2,000-line orders load against `pbload emulator serve` over real HTTP, under injected faults.

Each scenario ends with every row in a final status and the emulator holding exactly one order per
client order ID (one product per SKU, for the products scenario): nothing lost, nothing loaded twice
(checked through the search API).

One served emulator holds the products and serves the module's tests in turn (marked `slow`; CI runs
them): each test starts with no faults, loads orders of its own client order IDs (a prefix per test),
into a state directory of its own, and counts the faults injected since it began.
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

pytestmark = pytest.mark.slow

LINES = 2_000
LOADED = {"CREATED", "UNCHANGED", "UPDATED"}
MAX_ATTEMPTS = "12"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """`pbload emulator serve` once for the module, holding the products every order names."""
    folder = tmp_path_factory.mktemp("fault-suite")
    with ServedEmulator() as served:
        env = loader_env(folder / "state", PBLOAD_MAX_ATTEMPTS=MAX_ATTEMPTS)
        products = products_workbook(folder / "products.xlsx")
        code, output = run_loader(["load", str(products), "--base-url", served.url, "--env", "local"], env)
        assert code == 0, output
        yield served


@pytest.fixture
def served(emulator, tmp_path):
    """The module's emulator with no faults, and the environment of a loader with a state of its own."""
    emulator.set_faults()
    yield emulator, loader_env(tmp_path / "state", PBLOAD_MAX_ATTEMPTS=MAX_ATTEMPTS)
    emulator.set_faults()


def load_orders(tmp_path, emulator, prefix, *extra):
    """A workbook of orders `prefix`-000000... (each test its own: the emulator keeps earlier tests' orders)."""
    path, keys = orders_workbook(tmp_path / "orders.xlsx", LINES, prefix=prefix)
    args = ["load", str(path), "--base-url", emulator.url, "--env", "local", "--chunk-size", "100", *extra]
    return path, keys, args


def assert_exactly_once(emulator, keys, result):
    held = Counter(emulator.client_order_ids(prefix=keys[0].split("-")[0] + "-"))
    assert sorted(held) == sorted(keys), "orders lost or unexpected"
    assert max(held.values()) == 1, "an order was loaded twice"
    counts = statuses(result)
    assert sum(counts.values()) == LINES and set(counts) <= LOADED, counts


def test_errors_and_throttling(tmp_path, served):
    emulator, env = served
    before = emulator.counts()
    emulator.set_faults(seed=11, error_rate=0.10, throttle_rate=0.05, retry_after_s=0.05)
    # small chunks make enough requests for both kinds of fault to come up (the seed fixes which do)
    path, keys, args = load_orders(tmp_path, emulator, "FS1", "--chunk-size", "20")
    code, output = run_loader(args, env)
    assert code == 0, output
    injected = emulator.counts_since(before)
    assert injected["error"] > 0 and injected["throttle"] > 0
    assert "retried after transient failures" in output
    assert_exactly_once(emulator, keys, path.with_name("orders.result.xlsx"))


def test_answers_lost_after_commit(tmp_path, served):
    emulator, env = served
    before = emulator.counts()
    emulator.set_faults(seed=12, lost_after_commit_rate=0.05)
    path, keys, args = load_orders(tmp_path, emulator, "FS2")
    code, output = run_loader(args, env)
    assert code == 0, output
    assert emulator.counts_since(before)["lost_after_commit"] > 0
    assert_exactly_once(emulator, keys, path.with_name("orders.result.xlsx"))


def test_products_under_errors_and_lost_answers(tmp_path, served):
    # PB does not upsert products: a create retried after its answer was lost meets a duplicate,
    # which pbload must recognise as its own, row by row
    emulator, env = served
    before = emulator.counts()
    emulator.set_faults(
        seed=16, error_rate=0.10, lost_after_commit_rate=0.10, throttle_rate=0.05, retry_after_s=0.05
    )
    skus = [f"FP-{n:05d}" for n in range(1_000)]
    path = products_workbook(tmp_path / "more-products.xlsx", skus)
    code, output = run_loader(
        ["load", str(path), "--base-url", emulator.url, "--env", "local", "--chunk-size", "50"], env
    )
    assert code == 0, output
    assert emulator.counts_since(before)["lost_after_commit"] > 0
    held = Counter(emulator.skus())
    assert sorted(set(held) - set(SKUS)) == skus and max(held.values()) == 1
    counts = statuses(path.with_name("more-products.result.xlsx"), "Products")
    assert sum(counts.values()) == 1_000 and set(counts) <= LOADED, counts


def test_token_expires_mid_run(tmp_path, served):
    emulator, env = served
    emulator.set_faults(seed=13, token_ttl_s=1, latency_ms=20)
    path, keys, args = load_orders(tmp_path, emulator, "FS3", "--concurrency", "2")
    code, output = run_loader(args, env)
    assert code == 0, output
    assert_exactly_once(emulator, keys, path.with_name("orders.result.xlsx"))


def test_killed_five_times_and_resumed(tmp_path, served):
    emulator, env = served
    emulator.set_faults(seed=14, latency_ms=100)  # slow enough for the kills to land mid-run
    path, keys, args = load_orders(tmp_path, emulator, "FS4", "--chunk-size", "50", "--concurrency", "1")
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
    path, keys, args = load_orders(tmp_path, emulator, "FS5", "--chunk-size", "20", "--concurrency", "1")
    held = emulator.order_count()
    process = start_loader(args, env)
    emulator.wait_for_orders(held + 100, process)
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
