"""Child processes that die with their parent, and port checks shared by the node and the daemons."""

from __future__ import annotations

import ctypes
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


#: Ports handed out below the kernel's ephemeral range (32768+ on Linux), so that no outgoing
#: connection grabs one between the pick and the daemon's bind.
PICK_RANGE = (20000, 32000)
_handed_out: set[int] = set()


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port_block(count: int = 1, host: str = "127.0.0.1") -> int:
    """A port p such that p .. p + count - 1 are free now and were not handed out before by this process."""
    for _ in range(1000):
        base = random.randrange(PICK_RANGE[0], PICK_RANGE[1] - count)
        ports = range(base, base + count)
        if not _handed_out.intersection(ports) and all(_bindable(host, p) for p in ports):
            _handed_out.update(ports)
            return base
    raise RuntimeError(f"no block of {count} free ports in {PICK_RANGE}")


def free_port(host: str = "127.0.0.1") -> int:
    return free_port_block(1, host)


def _die_with_parent(sig: int) -> Callable[[], None]:
    def preexec() -> None:
        # Linux: the kernel sends `sig` to the child when its parent exits, even on kill -9.
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)

    return preexec


def spawn(
    cmd: Sequence[str],
    log_path: Path,
    *,
    env: dict[str, str] | None = None,
    death_signal: int = signal.SIGTERM,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `cmd` with its output appended to `log_path`; it is signalled when we die."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file: IO[bytes] = log_path.open("ab")
    try:
        return subprocess.Popen(
            list(cmd),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            # The kernel's parent-death signal exists on Linux only; elsewhere `zg up` stops its children itself.
            preexec_fn=_die_with_parent(death_signal) if sys.platform.startswith("linux") else None,
        )
    finally:
        log_file.close()


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGINT, timeout: float = 15) -> int:
    """Signal `proc` and wait; escalate to SIGKILL after `timeout` seconds."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
