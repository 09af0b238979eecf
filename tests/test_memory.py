"""Memory a run frees goes back to the system (glibc): the next stage does not start from the last one's peak."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

import pytest

from loader.memory import collected_seldom, give_back_large_blocks

# A stage that makes and frees blocks of megabytes while small objects live on between them (a band's XML
# and cells beside the values kept), then reports how much of it is still resident once it is all freed.
_STAGE = textwrap.dedent(
    """
    import sys
    from loader.memory import give_back_large_blocks
    if sys.argv[1] == "given back":
        assert give_back_large_blocks()

    def resident():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS:"))

    before = resident()
    bands, kept = [], []
    for n in range(24):
        band = bytearray(24 * 1024 * 1024 if n == 0 else 8 * 1024 * 1024)
        band[::4096] = b"x" * len(band[::4096])  # touched: resident
        bands.append(band)
        kept.append(bytes(1000 + n))  # a value kept: it sits after the band in memory
        if n == 0:
            bands.clear()
    bands.clear()
    print(resident() - before)
    """
)


def _held_after(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _STAGE, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux") or not give_back_large_blocks(), reason="glibc only")
def test_blocks_freed_by_a_stage_leave_the_process():
    assert _held_after("given back") < 32  # without it, glibc keeps about 170 MB of the freed bands


def test_collected_seldom_for_the_block_and_the_collector_as_it_was_after():
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with collected_seldom(20_000):
            assert gc.get_threshold() == (20_000, 10, 10)
            assert gc.get_freeze_count() > 0  # what the process held before is left alone
        assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0
        gc.set_threshold(50_000, 10, 10)
        with collected_seldom(20_000):
            assert gc.get_threshold()[0] == 50_000  # already seldom enough
        gc.set_threshold(0, 10, 10)
        with collected_seldom(20_000):
            assert gc.get_threshold()[0] == 0  # collection turned off stays off
        assert gc.get_threshold() == (0, 10, 10)
    finally:
        gc.set_threshold(*before)
