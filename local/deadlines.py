"""Each function's ``Timeout``, enforced on the thread that runs its handler.

On AWS an invocation still running at its function's Timeout ends with ``Task timed out after N seconds``
(``errorType`` ``Sandbox.Timedout``): the caller gets that error at the deadline, and the sandbox is stopped,
so nothing the handler would have done next happens. Locally a handler runs on the thread that invoked it
(moto's Step Functions, a poller, the HTTP front, a test), which tests and the benchmark rely on (hooks that
match their own thread, the DynamoDB lock a stream's inline consumer re-enters). So a watchdog thread stops
the handler where it runs: at the deadline it raises :class:`Interrupted` in that thread
(``PyThreadState_SetAsyncExc``), a ``BaseException`` so the handler's ``except Exception`` cannot swallow it
(Powertools' idempotency, for one, leaves its record INPROGRESS, as a stopped sandbox does), and the runtime
answers the caller :class:`FunctionTimedOut`.

Two places must not be interrupted half-way: moto answering an AWS call in-process (its tables, queues and
executions would be left half-written) and the runtime's own bookkeeping. While a handler is inside an AWS
call (:meth:`Watchdog.service_call`), its deadline waits for the call to return, then stops the handler
before it sees the answer: the request took effect, as one the sandbox had sent before it stopped does on AWS.

What differs from AWS (docs/offline-stack.md): an asynchronous exception is raised when the thread next runs
Python code, so a handler blocked in C (a sleep, a socket read, waiting on a lock, an Event or another
thread's future) stops, and its caller hears, only when that call returns; ``finally`` blocks and ``with``
exits in the handler still run; threads the handler started go on.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

Clock = Callable[[], float]
POLL_SECONDS = 0.05  # how often the watchdog reads the clocks (a test's fake clock has no timer to wait on)

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.c_void_p)
_set_async_exc.restype = ctypes.c_int


class Interrupted(BaseException):  # not an Exception: the sandbox stopping the handler, not its error
    """Raised inside a handler whose invocation passed its deadline."""


class FunctionTimedOut(RuntimeError):
    """What the caller of an invocation that passed its deadline gets (Lambda's ``Sandbox.Timedout``)."""

    error_type = "Sandbox.Timedout"

    def __init__(self, request_id: str, timeout_seconds: int) -> None:
        super().__init__(f"RequestId: {request_id} Error: Task timed out after {timeout_seconds:.2f} seconds")


@dataclass(eq=False)
class Deadline:
    """One running invocation's deadline, on the thread that runs its handler."""

    thread: int
    clock: Clock
    at: float
    expired: bool = False
    signalled: bool = False  # Interrupted was sent to the thread for it (and may not have been raised yet)

    def passed(self) -> bool:
        """Whether the invocation is past its deadline (read on its clock, not only by the watchdog)."""
        self.expired = self.expired or self.clock() >= self.at
        return self.expired


_SERVICE = "service"  # a frame: the thread is inside an AWS call that moto answers in-process


class Watchdog:
    """Stops handlers at their deadlines; one for the process, started with the first invocation."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frames: dict[int, list[Deadline | str]] = {}  # per thread: its invocations and AWS calls, nested
        self._thread: threading.Thread | None = None

    def start(self, clock: Clock, at: float) -> Deadline:
        """Watch an invocation starting on this thread, due to end by ``at`` (on ``clock``)."""
        deadline = Deadline(threading.get_ident(), clock, at)
        with self._cond:
            self._push(deadline)
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="lambda-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()
        return deadline

    def end(self, deadline: Deadline) -> bool:
        """Stop watching ``deadline`` (an Interrupted sent but not raised yet is withdrawn); whether the
        invocation this one ran inside (the handler that called it) is past its own deadline.

        An Interrupted sent before the withdrawal can still be raised in here: call it again until it
        returns (it is idempotent), as :func:`run` does."""
        with self._cond:
            frames = self._frames.get(deadline.thread, [])
            if deadline in frames:
                del frames[frames.index(deadline):]
            if not frames:
                self._frames.pop(deadline.thread, None)
            if deadline.signalled:
                _set_async_exc(deadline.thread, None)
            return self._outer_expired(frames)

    @contextmanager
    def service_call(self) -> Iterator[None]:
        """An AWS call answered in-process: not interrupted; a handler whose deadline passed meanwhile
        stops (:class:`Interrupted`) when the call returns, without its answer."""
        thread = threading.get_ident()
        with self._cond:
            frames = self._frames.get(thread)
            if frames is not None:  # a handler's call (other threads are not watched)
                self._push(_SERVICE)
        if frames is None:
            yield
            return
        try:
            yield
        finally:
            with self._cond:
                if frames and frames[-1] is _SERVICE:
                    frames.pop()
                stop = self._outer_expired(frames)
            if stop:
                raise Interrupted

    def _push(self, frame: Deadline | str) -> None:
        """(Under the lock.) A handler about to call something must not be interrupted inside it: an
        Interrupted sent but not raised yet is withdrawn first (the frame's end raises it instead)."""
        thread = threading.get_ident()
        frames = self._frames.setdefault(thread, [])
        if frames and isinstance(frames[-1], Deadline) and frames[-1].signalled:
            _set_async_exc(thread, None)
        frames.append(frame)

    @staticmethod
    def _outer_expired(frames: list[Deadline | str]) -> bool:
        return bool(frames) and isinstance(frames[-1], Deadline) and frames[-1].passed()

    def _watch(self) -> None:
        with self._cond:
            while True:
                waits = [POLL_SECONDS]
                for thread, frames in self._frames.items():
                    for frame in frames:
                        if isinstance(frame, Deadline) and not frame.passed():
                            waits.append(frame.at - frame.clock())
                    top = frames[-1] if frames else None
                    if isinstance(top, Deadline) and top.expired and not top.signalled:
                        top.signalled = True  # sent once: what it does not stop, its frame's end does
                        _set_async_exc(thread, id(Interrupted))
                self._cond.wait(min(waits) if self._frames else None)


WATCHDOG = Watchdog()


def run(call: Callable[[], Any], clock: Clock, at: float) -> tuple[Any, BaseException | None, Deadline]:
    """``call()`` on this thread, stopped at ``at``: (its result, the exception it raised, its deadline).
    Raises :class:`Interrupted` if the handler that made this call is past its own deadline."""
    deadline = WATCHDOG.start(clock, at)
    result: Any = None
    error: BaseException | None = None
    try:
        result = call()
    except Interrupted as exc:
        error = None if deadline.passed() else exc
    except BaseException as exc:  # handed back, raised by the caller once the deadline is off
        error = exc
    finally:
        while True:  # an Interrupted sent before it was withdrawn may land on the way in: take the frame off again
            try:
                outer_expired = WATCHDOG.end(deadline)
                break
            except Interrupted:
                continue
    if outer_expired:
        raise Interrupted
    return result, error, deadline
