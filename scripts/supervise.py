"""Keep one command running: start it, and start it again whenever it exits, with backoff.

    python scripts/supervise.py [--name NAME] -- COMMAND [ARGUMENT ...]

`make run` puts each of its processes (Procfile) under this: honcho, which runs them,
restarts nothing (when one process exits it stops all the others). A Celery worker exits
on its own when Redis restarts while it holds unacknowledged messages (kombu: "'NoneType'
object has no attribute 'hostname'"), and any process can be killed (OOM, by hand).

The command is started again 1 s after it exits, twice as long each time it dies young
(within HEALTHY_SECONDS of its start) up to 30 s, and 1 s again once it has run that long.
The command runs in its own process group: SIGTERM and SIGINT sent to the supervisor (or
to its group, as honcho sends them) are passed on to that group once, and the supervisor
exits with the command's status once it has stopped. On Linux the command is killed if
the supervisor is. Each restart is one JSON line on stderr.
"""

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

FIRST_DELAY, MAX_DELAY = 1.0, 30.0
HEALTHY_SECONDS = 60.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Supervisor:
    def __init__(self, name: str, argv: list[str]) -> None:
        self.name, self.argv = name, argv
        self.child: subprocess.Popen | None = None
        self.stopping = False

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        delay = FIRST_DELAY
        while True:
            started = time.monotonic()
            self.child = subprocess.Popen(self.argv, process_group=0,
                                          preexec_fn=_die_with_parent(os.getpid()))
            status = self.child.wait()
            if self.stopping:
                return status if status >= 0 else 128 - status  # as a shell reports a signal
            lived = time.monotonic() - started
            delay = FIRST_DELAY if lived >= HEALTHY_SECONDS else delay
            self._log(status, lived, delay)
            self._pause(delay)
            if self.stopping:
                return 0
            delay = min(delay * 2, MAX_DELAY)

    def _stop(self, signum: int, _frame) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            os.killpg(self.child.pid, signum)

    def _pause(self, seconds: float) -> None:
        """Sleep, but stop early when asked to stop (a signal does not end time.sleep)."""
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(0.1)

    def _log(self, status: int, lived: float, delay: float) -> None:
        print(json.dumps({
            "event": "process exited; starting it again", "process": self.name,
            "pid": self.child.pid, "status": status, "ran_seconds": round(lived, 1),
            "restart_in_seconds": delay, "level": "warning", "logger": "supervise",
            "timestamp": datetime.now(UTC).isoformat(),
        }), file=sys.stderr, flush=True)


def _die_with_parent(parent: int):
    """Run in the child before the command starts. The child has its own process group,
    so that a stop signal reaches it (and a Celery worker's pool) exactly once, from the
    supervisor: two SIGTERMs, one sent to the supervisor's group and one passed on, leave
    a Celery worker hanging in its warm shutdown. On Linux the kernel also SIGKILLs the
    child when the supervisor dies, so that nothing runs on unsupervised."""
    def prepare() -> None:
        if sys.platform.startswith("linux"):
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:  # the supervisor died before prctl took effect
                os._exit(1)
    return prepare


def kill_session(leader: int, signum: int = signal.SIGKILL) -> None:
    """Signal every process in the session of ``leader`` (a supervisor started with
    start_new_session=True): the supervisor, its command's process group and whatever that
    started, as a crash of the whole tree would. For tests and the fault harness (Linux)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            session = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3])
            if session == leader:
                os.kill(int(entry.name), signum)
        except (OSError, IndexError, ValueError):
            continue  # it ended meanwhile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", help="what to call the process in the log (default: the command)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to keep running")
    args = parser.parse_args()
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not argv:
        parser.error("no command given")
    return Supervisor(args.name or argv[0], argv).run()


if __name__ == "__main__":
    sys.exit(main())
