"""Finding and killing what a step leaves behind, including processes that left its process group.

A step runs in its own process group, but a descendant may call ``setsid()`` (a double-forked
daemon) and leave the group. Three ways find such processes (Linux ``/proc``; elsewhere only the
process group is killed):

* **the tag**: every step process gets ``PIPELINE_CI_PROCESS_TAG=<run tag>/<job>`` in its
  environment, which its descendants inherit (``/proc/<pid>/environ`` shows the environment the
  process was started with);
* **the subreaper**: the run makes this process a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``),
  so an orphaned descendant is re-parented to us instead of to init; any child of ours that we did
  not start ourselves is such a leftover;
* **the pipes**: a process that still holds the write end of a step's stdout/stderr pipe.

What is found is sent SIGKILL, in a few rounds (a process may fork while we look), and our own
children among them are reaped.

Looking costs a read of every process's ``/proc`` entries, which grows with the machine's process
count. :func:`strays` is the cheap question asked after every step: as the subreaper, a live
descendant of a finished step is necessarily one of our own children, so when we have no child
besides the running steps (read from ``/proc/self/task/*/children``), there is nothing to look for.
Should that list miss one (the kernel does not promise it while children move between threads), the
step's pipes still find a process holding them, and the end of the run sweeps everything.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable

TAG_VAR = "PIPELINE_CI_PROCESS_TAG"
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37
PROC = "/proc"
ROUNDS = 5


@functools.cache
def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


def set_subreaper(on: bool) -> bool | None:
    """Make this process a child subreaper (or stop being one); returns the previous state (None: unsupported)."""
    prctl = _prctl()
    if prctl is None:
        return None
    previous = ctypes.c_int(0)
    if prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(previous), 0, 0, 0) != 0:
        return None
    if prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0) != 0:
        return None
    return bool(previous.value)


def is_subreaper() -> bool:
    prctl = _prctl()
    if prctl is None:
        return False
    state = ctypes.c_int(0)
    return prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(state), 0, 0, 0) == 0 and bool(state.value)


def has_proc() -> bool:
    return os.path.isdir(os.path.join(PROC, "self"))


@functools.cache
def _lists_children() -> bool:
    """Does the kernel list a task's children (``CONFIG_PROC_CHILDREN``)?"""
    return os.path.exists(f"{PROC}/self/task/{os.getpid()}/children")


def _child_pids() -> list[int] | None:
    """Our children from ``/proc/self/task/*/children`` (every thread's), None when not available."""
    if not _lists_children():
        return None
    try:
        tasks = os.listdir(f"{PROC}/self/task")
    except OSError:
        return None
    pids: list[int] = []
    for tid in tasks:
        try:
            with open(f"{PROC}/self/task/{tid}/children", "rb") as fh:
                pids.extend(int(pid) for pid in fh.read().split())
        except (OSError, ValueError):  # the thread ended
            continue
    return pids


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir(PROC) if name.isdigit()]
    except OSError:
        return []


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of a process, None when it is gone."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return fields[0].decode(), int(fields[1]), int(fields[2])
    except (OSError, IndexError, ValueError):
        return None


def _environ_has(pid: int, needle: bytes) -> bool:
    try:
        with open(f"{PROC}/{pid}/environ", "rb") as fh:
            return needle in b"\0" + fh.read()
    except OSError:  # gone, or not ours
        return False


def _holds_pipe(pid: int, inodes: set[int]) -> bool:
    fd_dir = f"{PROC}/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return False
    wanted = {f"pipe:[{inode}]" for inode in inodes}
    for name in names:
        try:
            if os.readlink(f"{fd_dir}/{name}") in wanted:
                return True
        except OSError:
            continue
    return False


def children(parent: int | None = None, *, fast: bool = False) -> dict[int, tuple[str, int]]:
    """The children of ``parent`` (default: this process): their state letter (``Z``: zombie) and group.
    ``fast``: from ``/proc/self/task/*/children`` where the kernel has it, which the kernel documents as not
    reliable while children move between our threads (a thread that ends hands its children on)."""
    listed = _child_pids() if parent is None and fast else None
    parent = os.getpid() if parent is None else parent
    out = {}
    for pid in _pids() if listed is None else listed:
        info = _stat(pid)
        if info is not None and info[1] == parent:
            out[pid] = (info[0], info[2])
    return out


def strays(exclude: Iterable[int]) -> bool:
    """Could a process left behind by a finished step still be alive? False only when we are the
    subreaper and have no live child outside ``exclude`` (the running steps and the children we had
    before); True whenever that cannot be known cheaply."""
    if not is_subreaper() or _child_pids() is None:
        return True
    skip = set(exclude)
    return any(pid not in skip and state not in ("Z", "X") for pid, (state, _) in children(fast=True).items())


def reap_zombies(exclude: Iterable[int] = (), group: int | None = None, timeout: float = 0.0,
                 fast: bool = False) -> None:
    """Reap our zombie children (re-parented to us as the subreaper) not in ``exclude``; with ``group``,
    only members of that process group, waiting up to ``timeout`` seconds for them all to die
    (``fast``: see :func:`children`)."""
    if not has_proc():
        return
    skip = set(exclude)
    deadline = time.monotonic() + timeout
    while True:
        pending = {pid: state for pid, (state, pgrp) in children(fast=fast).items()
                   if pid not in skip and (group is None or pgrp == group)}
        for pid, state in pending.items():
            if state in ("Z", "X"):
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
        alive = [pid for pid, state in pending.items() if state not in ("Z", "X")]
        if not alive or group is None or time.monotonic() > deadline:
            return
        time.sleep(0.01)


def find(tag: str | None = None, *, pipes: Iterable[int] = (), adopted: bool = False,
         exclude: Iterable[int] = ()) -> set[int]:
    """Live processes that carry ``tag`` (as a prefix of the tag value), hold one of the ``pipes``
    (inodes), or (``adopted``) are children of ours not in ``exclude``."""
    me = os.getpid()
    skip = {me, 1, *exclude}
    needle = f"\0{TAG_VAR}={tag}".encode() if tag else None
    inodes = set(pipes)
    found = set()
    for pid in _pids():
        if pid in skip:
            continue
        info = _stat(pid)
        if info is None or info[0] in ("Z", "X"):
            continue
        if (adopted and info[1] == me) or (needle is not None and _environ_has(pid, needle)) or (
                inodes and _holds_pipe(pid, inodes)):
            found.add(pid)
    return found


def kill(pids: Iterable[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def reap(pids: Iterable[int], timeout: float = 1.0) -> None:
    """Collect the exit status of those ``pids`` that are (killed) children of ours."""
    waiting = set(pids)
    deadline = time.monotonic() + timeout
    while waiting:
        for pid in list(waiting):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not our child (init reaps it) or already reaped
                waiting.discard(pid)
                continue
            if done:
                waiting.discard(pid)
        if not waiting or time.monotonic() > deadline:
            return
        time.sleep(0.01)


def sweep(tag: str | None = None, *, pipes: Iterable[int] = (), adopted: bool = False,
          exclude: Callable[[], Iterable[int]] = lambda: ()) -> set[int]:
    """Kill (and reap) everything :func:`find` finds, in up to :data:`ROUNDS` rounds; returns the pids killed."""
    if not has_proc():
        return set()
    killed: set[int] = set()
    for _ in range(ROUNDS):
        found = find(tag, pipes=pipes, adopted=adopted, exclude=exclude()) - killed
        if not found:
            break
        kill(found)
        killed |= found
    reap(killed)
    return killed
