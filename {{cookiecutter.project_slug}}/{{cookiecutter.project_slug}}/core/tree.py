"""The processes of `manage.py serve` as one tree: machinery the template keeps up to date.

The parts run as children of serve, under honcho's Manager, which prefixes every line
of theirs with its name and stops them all when one stops. On top of it: a grace period
of its own (honcho's kills 5 s after the first stop), an exit status that tells a
requested stop from a death, and children that end with serve even when it is killed
(Linux's parent-death signal).
{%- if cookiecutter.task_queue == "database" %}

A frozen part does not end, so honcho cannot see it: a worker stopped by SIGSTOP, or
stuck so that its heartbeat stops, would leave the web answering for a tree without a
worker. So every part gets two variables, which the queue's /healthz reads:

- SERVE_PARTS: the names of the tree's parts, comma-separated ("web,worker").
- SERVE_STARTED_AT: when serve started them, in Unix seconds.

With them, /healthz answers 503 when no worker of this machine has written its
heartbeat within TASK_WORKER_DEAD_AFTER seconds, once that long has passed since
SERVE_STARTED_AT (the worker's time for its first beat), and a platform's health check
sees the tree as down.
{%- endif %}
"""

import contextlib
import ctypes
import multiprocessing
import os
import shlex
import signal
import sys
import threading
{%- if cookiecutter.task_queue == "database" %}
import time
{%- endif %}
from functools import partial

from honcho import manager as honcho
from honcho.printer import Printer
from honcho.process import Popen, Process

# Seconds the parts get after SIGTERM before SIGKILL: gunicorn's own graceful timeout (30 s)
# for requests, a running task or job as long. The README states it; --grace changes it.
GRACE_SECONDS = 30

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
LIBC = ctypes.CDLL(None, use_errno=True)


def end_with_parent(signum, parent):
    """Have the kernel send signum to this process when parent (its parent) ends.

    If parent ended before this took hold, act on it at once. Linux only: elsewhere a
    killed serve leaves its parts running.
    """
    if not sys.platform.startswith("linux"):
        return
    if LIBC.prctl(PR_SET_PDEATHSIG, signum) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
    if os.getppid() != parent:
        os.kill(os.getpid(), signum)


class Part(Process):
    """A child of honcho's with the parent-death signal at both of its levels.

    honcho runs each part in a process of its own that relays its output: that relay
    gets SIGKILL when serve ends, and the part (in a session of its own, as honcho starts
    it) gets SIGTERM when its relay ends, so it stops as if the tree had been stopped.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.serve_pid = os.getpid()

    def run(self, events=None, ignore_signals=False):
        end_with_parent(signal.SIGKILL, self.serve_pid)
        self._child_ctor = self.start
        super().run(events, ignore_signals)

    def start(self, *args, **kwargs):
        end_with_relay = partial(end_with_parent, signal.SIGTERM, os.getpid())
        child = Popen(*args, preexec_fn=end_with_relay, **kwargs)
        threading.Thread(target=end_group_with, args=(child.pid,), daemon=True).start()
        return child


def end_group_with(pid):
    """Once the part pid has exited, SIGTERM what is left of its process group.

    honcho learns that a part stopped when its output pipe closes, which the part's own
    children hold open: gunicorn's workers outlive a killed gunicorn by up to 15 s.
    """
    with contextlib.suppress(ChildProcessError):  # honcho may have collected it already
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # leaves the exit status to honcho
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)


class Tree(honcho.Manager):
    """honcho's Manager with a grace period counted from the first stop, and a record of
    whether the stop was asked for (SIGTERM or SIGINT to serve) or a part ended."""

    def __init__(self, grace, **kwargs):
        super().__init__(**kwargs)
        self._process_ctor = Part
        self.grace = grace
        self.asked_to_stop = False

    def _start(self):
        # loop() has just set honcho's handlers: note the request, then let them act.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, partial(self._asked, signal.getsignal(signum)))
        super()._start()

    def _asked(self, honcho_handler, signum, frame):
        self.asked_to_stop = True
        honcho_handler(signum, frame)

    def terminate(self):
        if not self._terminating:
            signal.signal(signal.SIGALRM, lambda signum, frame: self.kill())
            signal.alarm(self.grace)
        super().terminate()

    def exit_status(self):
        """0 after a stop that was asked for and that every part finished cleanly.

        A part still starting up has no handler of its own yet, and the SIGTERM relayed
        to it ends it at once: that too is the stop that was asked for.
        """
        codes = [part.get("returncode") for part in self._processes.values()]
        if self.asked_to_stop and all(code in (0, -signal.SIGTERM) for code in codes):
            return 0
        first = self.returncode  # the first part to stop, or 143/130 for the signal
        if first is None or first == 0:
            return 1
        return 128 - first if first < 0 else first


def run_tree(parts, *, grace):
    """Run parts, (name, arguments for this Python) pairs, until the tree stops; returns
    serve's exit status."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}  # each line as it is written
{%- if cookiecutter.task_queue == "database" %}
    # For /healthz, which answers 503 once this tree's worker is gone (see above).
    environment["SERVE_PARTS"] = ",".join(name for name, _ in parts)
    environment["SERVE_STARTED_AT"] = str(time.time())
{%- endif %}
    # Relays forked from this single-threaded process, on every Python version (3.14
    # makes forkserver the default, which would be the relays' parent instead).
    multiprocessing.set_start_method("fork", force=True)
    honcho.KILL_WAIT = grace  # honcho's own kill, never before ours
    tree = Tree(grace, printer=Printer(sys.stdout))
    for name, arguments in parts:
        command = shlex.join([sys.executable, *arguments])
        tree.add_process(name, f"exec {command}", env=environment)
    tree.loop()
    signal.alarm(0)
    return tree.exit_status()
