"""Child processes and what Linux says about them (/proc): ports, start-up, CPU time, memory.

Reading /proc needs no extra package and sees every gunicorn worker, whichever way it forks.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (which may hold spaces): field 3 is [0]."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def children(pid: int) -> list[int]:
    """Direct children of a process, such as a gunicorn master's workers."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat(int(entry))[1]) == pid:
                    found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue  # it ended while we looked
    return sorted(found)


def rss_kib(pid: int) -> int:
    """Resident memory (VmRSS) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of these processes (all their threads), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = _stat(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def started_at(pid: int) -> float:
    """When the process started, in seconds since boot (10 ms resolution)."""
    return int(_stat(pid)[19]) / CLOCK_TICKS


def stop(process: subprocess.Popen[bytes], timeout: float = 25) -> None:
    """TERM (gunicorn's graceful stop), then KILL if it does not end in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
