"""Freed memory given back to the system, so that a run's peak is what it holds, not what it once held;
and the cycle collector kept off the containers a busy stretch makes and drops (`collected_seldom`).

glibc's malloc maps a block of its own for each large allocation and unmaps it when freed, but only
up to a threshold that rises each time such a block is freed, to 32 MB. Reading a big sheet frees
many blocks of several megabytes (a band's XML, calamine's cells of a band); once the threshold has
risen past them they come from the heap, and freeing them leaves them resident. At a million rows that
was 400 MB held after the read for nothing. Fixing the threshold at 1 MiB keeps every large block
mapped on its own, and returned as soon as it is freed. Other C libraries are left as they are.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from collections.abc import Iterator
from contextlib import contextmanager

_M_MMAP_THRESHOLD = -3  # mallopt's parameter, from glibc's malloc.h
THRESHOLD = 1024 * 1024


@functools.cache
def give_back_large_blocks() -> bool:
    """Have glibc map (and unmap when freed) every block of `THRESHOLD` or more; whether it could (once)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
    except (OSError, TypeError):
        return False
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return False  # not glibc
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, THRESHOLD))


@contextmanager
def collected_seldom(young: int) -> Iterator[None]:
    """For the block, the youngest generation is collected every `young` new containers (or less
    often, if it was already), and what the process held before is left to itself (`gc.freeze`);
    the collector as it was after. Automatic collection turned off (a threshold of 0) stays off."""
    threshold = gc.get_threshold()
    if threshold[0]:
        gc.set_threshold(max(threshold[0], young), *threshold[1:])
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
