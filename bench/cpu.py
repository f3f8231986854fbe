"""Who used the CPU during a measurement: the app, the Cognito stand-in, wrk, and everything else.

The machine has two cores shared by all three (and by whatever else runs on it), so a throughput
figure means little without knowing who had the cores. Figures are in cores (1.0 = one core busy
for the whole measurement).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from pathlib import Path

from bench import processes

CORES = os.cpu_count() or 1


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine from /proc/stat's first line."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    return total - idle, total


def _reaped_children_seconds() -> float:
    """CPU time of finished child processes of the harness: each wrk run, once it has been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Meter:
    """CPU use per party between start() and stop(); wrk is counted once it has exited."""

    def __init__(self, parties: dict[str, Callable[[], list[int]]]) -> None:
        self.parties = parties  # name -> current pids, read at start and stop

    def start(self) -> None:
        self._pids = {name: pids() for name, pids in self.parties.items()}
        self._before = {name: processes.cpu_seconds(pids) for name, pids in self._pids.items()}
        self._children = _reaped_children_seconds()
        self._machine = _machine_jiffies()
        self._wall = time.monotonic()

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self._wall
        used = {name: (processes.cpu_seconds(self._pids[name]) - self._before[name]) / wall for name in self.parties}
        used["wrk"] = (_reaped_children_seconds() - self._children) / wall
        busy, total = _machine_jiffies()
        machine = (busy - self._machine[0]) / max(1, total - self._machine[1]) * CORES
        used["other"] = max(0.0, machine - sum(used.values()))
        used["machine"] = machine
        return used
