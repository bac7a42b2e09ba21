"""How an idle worker sleeps until a task may be ready, without polling the task table.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.

Each database has its own way: SQLite's is below; another database's comes with its
module (vendor.py), and one without any gets a plain sleep. Every way keeps a fallback
timeout for deferred tasks and missed signals.
"""

import ctypes
import logging
import os
import select
import struct
import sys
import time

from django.db import DEFAULT_DB_ALIAS, Error, connections

from .vendor import vendor_module

logger = logging.getLogger(__name__)

# Where inotify is not to be had, how often an idle worker on SQLite asks whether
# another connection committed: a pickup waits half of it on average.
SQLITE_POLL_SECONDS = 0.05

# A commit is written to the WAL file before the WAL's index makes it visible: after
# a write, look again over these pauses (87 ms in all) before sleeping on.
SQLITE_SETTLE_PAUSES = (0, 0.002, 0.005, 0.01, 0.02, 0.05)

# inotify(7): the flags, and the head of each event (wd, mask, cookie, name length).
IN_MODIFY, IN_CREATE, IN_MOVED_TO, IN_IGNORED = 0x2, 0x100, 0x80, 0x8000
IN_NONBLOCK, IN_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
INOTIFY_EVENT = struct.Struct("iIII")


class Wake:
    """Sleep until another connection may have queued a task, or the timeout passes.

    The watch connection is separate from the one that claims tasks, so that waiting
    never holds a transaction open.
    """

    def __init__(self):
        self.watch = None

    def wait(self, timeout):
        if self.watch is None:
            self.watch = connections.create_connection(DEFAULT_DB_ALIAS)
            with self.watch.wrap_database_errors:
                self.watch.ensure_connection()
                self.start()
            return  # a task may have arrived before the watch began: look again first
        with self.watch.wrap_database_errors:
            self.sleep(timeout)

    def start(self):
        pass

    def sleep(self, timeout):
        time.sleep(min(timeout, 1))

    def close(self):
        if self.watch is not None:
            try:
                self.watch.close()
            except Error:
                logger.debug("Closing a broken watch connection failed", exc_info=True)
            self.watch = None


class SqliteWake(Wake):
    """PRAGMA data_version changes whenever another connection commits to the file.

    Far cheaper than asking the task table: no query plan, no rows, no Django. On
    Linux the worker sleeps until the database file or its WAL is written (inotify),
    and asks only then; elsewhere it asks every SQLITE_POLL_SECONDS.
    """

    def start(self):
        self.files = FileWrites.watching(self.watch.settings_dict["NAME"])
        self.version = self.data_version()

    def data_version(self):
        return self.watch.connection.execute("PRAGMA data_version").fetchone()[0]

    def sleep(self, timeout):
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if self.files is None:
                time.sleep(min(SQLITE_POLL_SECONDS, left))
                pauses = (0,)
            elif not self.files.wait(left):
                return
            else:
                pauses = SQLITE_SETTLE_PAUSES
            for pause in pauses:
                time.sleep(pause)
                if self.changed():
                    return

    def changed(self):
        version = self.data_version()
        if version == self.version:
            return False
        self.version = version
        return True

    def close(self):
        super().close()
        if getattr(self, "files", None) is not None:
            self.files.close()
            self.files = None


class FileWrites:
    """Linux's inotify on writes to the database file and its WAL.

    Each file is watched for writes, and the directory for the WAL's creation only:
    SQLite deletes and re-creates the WAL as connections come and go, and a busy
    directory's other files must not wake the worker.
    """

    def __init__(self, libc, fd, database):
        self.libc = libc
        self.fd = fd
        self.names = {os.path.basename(database) + suffix for suffix in ("", "-wal")}
        directory = os.path.dirname(os.path.abspath(database))
        self.directory = self.add(directory, IN_CREATE | IN_MOVED_TO)
        for name in self.names:
            self.add(os.path.join(directory, name), IN_MODIFY)
        self.path = directory

    @classmethod
    def watching(cls, database):
        """A watch on the database file's writes, or None where inotify is not to be had."""
        if not sys.platform.startswith("linux") or not os.path.isfile(database):
            return None
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        except (AttributeError, OSError):  # no inotify in this libc
            return None
        if fd < 0:
            return None
        watch = cls(libc, fd, database)
        if watch.directory < 0:
            watch.close()
            return None
        return watch

    def add(self, path, mask):
        return self.libc.inotify_add_watch(self.fd, os.fsencode(path), mask)

    def wait(self, timeout):
        """Sleep until one of the files is written (True) or the timeout passes (False)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.fd], [], [], left)
            if readable and self.written():
                return True
        return False

    def written(self):
        """Whether the pending events say a file was written; watch a new WAL."""
        written = False
        while True:
            try:
                events = os.read(self.fd, 65536)
            except BlockingIOError:
                return written
            offset = 0
            while offset < len(events):
                wd, mask, _, length = INOTIFY_EVENT.unpack_from(events, offset)
                offset += INOTIFY_EVENT.size
                name = os.fsdecode(events[offset : offset + length].rstrip(b"\0"))
                offset += length
                if wd != self.directory:
                    written |= not mask & IN_IGNORED  # IN_IGNORED: the file went
                elif name in self.names:
                    self.add(os.path.join(self.path, name), IN_MODIFY)
                    written = True

    def close(self):
        os.close(self.fd)


def wake_for(connection):
    """The way to wait on this connection's database."""
    if connection.vendor == "sqlite":
        return SqliteWake()
    module = vendor_module(connection)
    return module.wake() if module else Wake()
