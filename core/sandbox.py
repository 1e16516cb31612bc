"""Run the reading of an uploaded file in a worker process that may use only so much memory and time.

Parsers (GDAL, SQLite, openpyxl, the XML and JSON parsers) run over bytes anyone may have crafted: a
small zip that unpacks to gigabytes, a GeoPackage view that never ends. :func:`run` calls a function in
a fresh child of a fork server (started once, with ``core.io`` already imported, so a read costs a fork,
not an interpreter start). The child may grow its address space by ``GRIDWATCH_READ_MEMORY_MB`` (1024)
over what it starts with (``RLIMIT_AS``) and is killed after ``GRIDWATCH_READ_SECONDS`` (60). Either way
the caller gets a ``ReadError`` saying which limit the file hit; the server process only ever holds the
result, sent back pickled.

::

    server ──(function, arguments)──> child (RLIMIT_AS, offline GDAL) ──result or error──> server
           └── no answer within the time limit: the child is killed, ReadError
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import sys
import threading
import traceback
import types
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import TypeVar

from core import settings
from core.errors import GridWatchError, ReadError

__all__ = ["run"]

T = TypeVar("T")

_MB = 2**20
_PRELOAD = ["core.io"]
# Allocators that reserve address space up front would count against RLIMIT_AS without using memory:
# Arrow's default pool (pandas strings) reserves 1 GB at its first use, glibc 64 MB per thread arena.
_WORKER_ENVIRONMENT = {"ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_ARENA_MAX": "2"}
_SLOW_ADVICE = (
    "A file this slow is damaged or built to stall the server (e.g. a GeoPackage view that never ends). "
    "Export the layer again as a plain file, or split it, and upload that."
)
_LARGE_ADVICE = (
    "Split the file (e.g. by street), simplify its geometry or drop columns you do not need, then upload the parts."
)
_lock = threading.Lock()
_BARE_MAIN = types.ModuleType("__main__")
_context: multiprocessing.context.ForkServerContext | None = None


def _stopped(label: str, what: str, advice: str) -> str:
    """The message for a read of ``label`` stopped at a limit: ``what`` it took (e.g. "took longer than
    30 s") and ``advice`` on what to upload instead."""
    return f"`{label}` {what} to read, so reading was stopped. {advice}"


def _server() -> multiprocessing.context.ForkServerContext:
    global _context
    with _lock:
        if _context is None:
            for variable, value in _WORKER_ENVIRONMENT.items():  # the fork server inherits these
                os.environ.setdefault(variable, value)
            context = multiprocessing.get_context("forkserver")
            assert isinstance(context, multiprocessing.context.ForkServerContext)
            context.set_forkserver_preload(_PRELOAD)
            _context = context
        return _context


def run(label: str, function: Callable[..., T], *args: object) -> T:
    """``function(*args)`` in a worker within the memory and time limits. ``label`` names the file in
    messages. ``GridWatchError``s raised by ``function`` are raised here as they are; running out of
    memory or time is a ``ReadError``; anything else is a bug and raised as ``RuntimeError`` with the
    worker's traceback."""
    memory_mb, seconds = settings.read_memory_mb(), settings.read_seconds()
    context = _server()
    receiver, sender = context.Pipe()
    worker = context.Process(target=_work, args=(sender, memory_mb), daemon=True, name="gridwatch-read")
    with _plain_main():
        worker.start()
    sender.close()
    try:
        with contextlib.suppress(OSError):  # the worker died taking them in
            receiver.send((function, args))  # after the start: the file's bytes are streamed, not copied
        if not receiver.poll(seconds):
            why = _stopped(label, f"took longer than {seconds:g} s", _SLOW_ADVICE)
            raise ReadError(why, code="read_time", params={"file": label, "seconds": f"{seconds:g}"})
        try:
            with warnings.catch_warnings():  # geometry with NaN vertices warns as it is rebuilt from WKB;
                warnings.simplefilter("ignore", RuntimeWarning)  # validation reports such geometry
                outcome, value = receiver.recv()
        except (EOFError, OSError):  # the worker died: the kernel refused it memory
            outcome, value = "memory", None
    finally:
        receiver.close()
        if worker.is_alive():
            worker.kill()
        worker.join()
    if outcome == "ok":
        return value
    if outcome == "memory":
        why = _stopped(label, f"needs more than {memory_mb:,} MB of memory", _LARGE_ADVICE)
        raise ReadError(why, code="read_memory", params={"file": label, "mb": f"{memory_mb:,}"})
    if outcome == "error":
        raise value
    raise RuntimeError(f"reading `{label}` failed in the worker:\n{value}")


@contextmanager
def _plain_main() -> Iterator[None]:
    """multiprocessing re-runs the parent's ``__main__`` script in a new worker when it has a file, and
    Streamlit makes the app's script ``__main__``: while a worker starts, ``__main__`` is a bare module."""
    with _lock:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = _BARE_MAIN
        try:
            yield
        finally:
            sys.modules["__main__"] = main


def _work(connection: Connection, memory_mb: int) -> None:
    """The worker: limit the address space, receive the call, run it, send ("ok", result) or what went
    wrong."""
    _limit_memory(memory_mb)
    try:
        function, args = connection.recv()
        message = ("ok", function(*args))
    except MemoryError:
        message = ("memory", None)
    except GridWatchError as exc:
        message = ("error", exc)
    except Exception:
        message = ("bug", traceback.format_exc())
    try:
        connection.send(message)
    except MemoryError:
        connection.send(("memory", None))
    finally:
        connection.close()


def _limit_memory(memory_mb: int) -> None:
    """Allow the address space to grow by ``memory_mb`` over what the worker has mapped now."""
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
        size_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    limit = size_kb * 1024 + memory_mb * _MB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
