"""Batches of deliveries prepared one ahead, by a process of their own, while this one folds.

Performance: preparing a delivery (its signature checked, its body parsed into signals) is a
quarter of a batch's time, and none of it needs the store. With more than a batch to go, a
forked child reads the input and prepares each batch while this process folds and commits the
one before; the batches come over a pipe, pickled. A fork, not a new interpreter: it starts at
once, with the input, the settings and the adapters as they are here (a part-read stdin
included), and reads nothing but the input. It never touches the store's connection, and leaves
by ``os._exit``, so nothing of this process is flushed or finalised twice.

Each delivery is still read, stored raw and parsed exactly as a single one would be: only where
the parse runs changes. What the child meets is what the batches would have met here: an error
reading the input is raised here, after the batches before it (a file that cannot be read, a
bad headers file); a child that dies (killed) stops the batches as a store failure does.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from itertools import chain, islice
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, TypeVar

if TYPE_CHECKING:
    from oncall_tui.ingest.prepare import Prepared, Verify
    from oncall_tui.ingest.record import Ingestor


class Readable(Protocol):
    """A delivery as read (:class:`~oncall_tui.ingest.batch.LocalDelivery`), not yet prepared."""

    @property
    def body(self) -> bytes: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def verify(self) -> Verify: ...


D = TypeVar("D", bound=Readable)

_BATCH, _FAILED, _END = "batch", "failed", "end"
"""What the child sends: a prepared batch, the exception reading the input raised, the end."""


class PreparingStoppedError(Exception):
    """The process preparing the batches ended before the input did."""


FIRST_BATCH = 50
"""The first batch a child prepares, at most; each one after is half as big again, up to the
batch size.

Performance: this process waits for the first batch the child prepares, 70-150 ms for 500
deliveries, the only time it waits. A small one starts the fold sooner, and batches growing no
faster than the child prepares them (a delivery in two thirds of the time this process takes to
fold one) keep it from waiting again."""


def _batches_of(items: Iterable[D], size: int, *, first: int | None = None) -> Iterator[list[D]]:
    """``items`` ``size`` at a time; from ``first`` at a time, growing by half, if given."""
    pending = iter(items)
    count = size if first is None else min(first, size)
    while batch := list(islice(pending, count)):
        yield batch
        count = min(size, count + count // 2)


@contextmanager
def prepared_batches(
    ingestor: Ingestor, source: str, deliveries: Iterable[D], batch_size: int
) -> Iterator[Iterator[tuple[list[D], list[Prepared]]]]:
    """The batches of ``deliveries``, each with its deliveries prepared, in input order.

    Prepared here, one batch at a time, when the input is a single batch (nothing to overlap),
    when this system cannot fork, or when other threads run (a fork copies none of them, and
    whatever lock one of them held stays held in the child).
    """
    pending = iter(deliveries)
    ahead = list(islice(pending, batch_size + 1))
    if len(ahead) <= batch_size or not hasattr(os, "fork") or threading.active_count() > 1:
        batches = _batches_of(chain(ahead, pending), batch_size)
        yield ((batch, _prepare(ingestor, source, batch)) for batch in batches)
        return
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns to the caller's code
        status = 1
        try:
            os.close(read_end)
            growing = _batches_of(chain(ahead, pending), batch_size, first=FIRST_BATCH)
            _prepare_and_send(ingestor, source, growing, os.fdopen(write_end, "wb"))
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    child = _Child(pid)
    with os.fdopen(read_end, "rb") as stream:
        try:
            yield _received(stream, child)
        finally:
            stream.close()
            child.reap(stop=True)


def _prepare(ingestor: Ingestor, source: str, batch: list[D]) -> list[Prepared]:
    return [ingestor.prepare(source, d.body, d.headers, verify=d.verify) for d in batch]


def _prepare_and_send(
    ingestor: Ingestor, source: str, batches: Iterator[list[D]], out: BinaryIO
) -> None:
    # Ctrl+C reaches the whole foreground group: the parent decides, and closes the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for batch in batches:
            # Pickled whole before anything is written: a failure leaves no half a message.
            prepared = [p.spelled_ahead() for p in _prepare(ingestor, source, batch)]
            _send(out, (_BATCH, batch, prepared))
        _send(out, (_END,))
    except BrokenPipeError:
        pass  # the parent stopped reading (it failed, or was interrupted): nobody to tell
    except Exception as exc:  # reading the input failed: raised in the parent, as it would be
        with suppress(BrokenPipeError):
            _send(out, (_FAILED, _picklable(exc)))


def _send(out: BinaryIO, message: tuple[Any, ...]) -> None:
    out.write(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
    out.flush()


def _picklable(exc: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return PreparingStoppedError(f"{type(exc).__name__}: {exc}")
    return exc


def _received(stream: BinaryIO, child: _Child) -> Iterator[tuple[list[Any], list[Prepared]]]:
    while True:
        try:
            message = pickle.load(stream)
        except (EOFError, pickle.UnpicklingError):  # it ended, between messages or in one
            raise PreparingStoppedError(
                f"the process preparing the deliveries ended ({child.reap()})"
            ) from None
        if message[0] == _END:
            return
        if message[0] == _FAILED:
            raise message[1]
        yield message[1], message[2]


class _Child:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.ended: str | None = None
        """How it ended, once waited for (its pid may then be another process's)."""

    def reap(self, *, stop: bool = False) -> str:
        """Wait for it to end (told to stop first, if ``stop``); how it ended."""
        if self.ended is None:
            if stop:
                # Unreaped, the pid is still its own; one that sent its end has left already.
                os.kill(self.pid, signal.SIGTERM)
            _, status = os.waitpid(self.pid, 0)
            if os.WIFSIGNALED(status):
                self.ended = f"killed by signal {os.WTERMSIG(status)}"
            else:
                self.ended = f"exit status {os.waitstatus_to_exitcode(status)}"
        return self.ended
