"""Run the processes of a Procfile and keep them running (standard library only).

    python -m tools.supervise scripts/run.procfile

Each line ``name: command`` starts one child (``/bin/sh -c "exec command"``, so the
environment is expanded and the child is the command itself). A child that exits, for
whatever reason, is started again after a back-off — 1 s, doubling up to 30 s, back to
1 s once it has stayed up for 30 s — and each exit and restart is logged. Children are
independent: one crashing never stops another (the API keeps serving).

SIGTERM or SIGINT (Ctrl-C) stops them all: each gets SIGTERM and ``--stop-timeout``
seconds to finish (a worker finishes its running task), then SIGKILL. A second signal
kills them at once. Children run in their own process groups, so Ctrl-C in a terminal
reaches them only through this supervisor, once; on Linux they also get SIGTERM if the
supervisor itself dies.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

POLL_SECONDS = 0.1


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"{stamp} supervise: {message}", file=sys.stderr, flush=True)


def parse_procfile(text: str) -> list[tuple[str, str]]:
    """``name: command`` lines; blank lines and ``#`` comments are skipped."""
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip() or not command.strip():
            raise ValueError(f"line {number}: expected 'name: command', got {raw!r}")
        entries.append((name.strip(), command.strip()))
    names = [name for name, _ in entries]
    if len(set(names)) != len(names):
        raise ValueError("process names must be unique")
    return entries


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to send SIGTERM to the child when we die."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return preexec


@dataclass
class Child:
    name: str
    command: str
    backoff_base: float
    backoff_cap: float
    stable_after: float
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    failures: int = field(default=0)

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - the command is the operator's own
            ["/bin/sh", "-c", f"exec {self.command}"],
            process_group=0,
            preexec_fn=_die_with_parent(),  # the supervisor has one thread
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        log(f"started {self.name} (pid {self.process.pid})")

    def check(self, now: float) -> None:
        """Notice an exit and schedule the restart; restart when it is due."""
        if self.process is not None:
            code = self.process.poll()
            if code is None:
                return
            lived = now - self.started_at
            self._kill_group(signal.SIGKILL)  # leftovers of the dead child (server workers)
            self.process = None
            self.failures = 1 if lived >= self.stable_after else self.failures + 1
            delay = min(self.backoff_cap, self.backoff_base * 2 ** (self.failures - 1))
            delay *= random.uniform(0.9, 1.1)
            self.restart_at = now + delay
            how = f"signal {-code}" if code < 0 else f"code {code}"
            log(
                f"{self.name} exited ({how}) after {lived:.1f} s; "
                f"restarting in {delay:.1f} s (restart {self.failures})"
            )
        elif self.restart_at is not None and now >= self.restart_at:
            self.start()

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)

    def _kill_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(self, children: list[Child], *, stop_timeout: float) -> None:
        self.children = children
        self.stop_timeout = stop_timeout
        self.stop_requests = 0

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requests += 1
        if self.stop_requests == 1:
            log(f"{signal.Signals(signum).name}: stopping every process")
        else:
            log(f"{signal.Signals(signum).name} again: killing every process")

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        for child in self.children:
            child.start()
        while not self.stop_requests:
            now = time.monotonic()
            for child in self.children:
                child.check(now)
            time.sleep(POLL_SECONDS)
        self.stop()
        return 0

    def stop(self) -> None:
        for child in self.children:
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline and self.stop_requests < 2:
            if not any(child.running() for child in self.children):
                break
            time.sleep(POLL_SECONDS)
        for child in self.children:
            if child.running():
                log(f"{child.name} did not stop in time: killing it")
            child._kill_group(signal.SIGKILL)  # the child and anything it left behind
            if child.process is not None:
                child.process.wait()
        log("stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.supervise", description=__doc__)
    parser.add_argument("procfile", type=Path)
    parser.add_argument("--only", default="", help="comma list of the processes to run")
    parser.add_argument("--backoff", type=float, default=1.0, help="first restart delay (s)")
    parser.add_argument("--backoff-cap", type=float, default=30.0, help="longest delay (s)")
    parser.add_argument(
        "--stable-after", type=float, default=30.0, help="uptime that resets the back-off (s)"
    )
    parser.add_argument(
        "--stop-timeout", type=float, default=45.0, help="seconds to finish before SIGKILL"
    )
    args = parser.parse_args(argv)
    entries = parse_procfile(args.procfile.read_text())
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - {name for name, _ in entries}
    if unknown:
        parser.error(f"unknown process: {', '.join(sorted(unknown))}")
    children = [
        Child(name, command, args.backoff, args.backoff_cap, args.stable_after)
        for name, command in entries
        if not only or name in only
    ]
    return Supervisor(children, stop_timeout=args.stop_timeout).run()


if __name__ == "__main__":
    sys.exit(main())
