"""One worker thread for everything that may block: the disk, the log, voice preparation.

The main thread hands work over and gets the result back on the Kivy Clock, so a slow
SD card or a slow voice never stalls a frame.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable, List, Optional

from kivy.clock import Clock

log = logging.getLogger("kiosk")

Done = Callable[[Any], None]


class BackgroundWorker:
    """Runs work in order on one thread; `failed` hears of any error, on the main thread."""

    def __init__(self, failed: Callable[[BaseException], None], name: str = "kiosk-io") -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: List[Future] = []
        self._lock = threading.Lock()
        self._failed = failed
        self._results_due = 0
        self.closed = False

    def run(self, work: Callable[[], Any], done: Optional[Done] = None) -> None:
        """Run `work` on the worker; hand its result to `done` on the main thread."""
        if self.closed:
            return

        def job() -> None:
            # The result is handed to the Clock before the future counts as done, so
            # `wait_idle` returning means every result is already on its way to the screen.
            try:
                result = work()
            except Exception as error:
                log.error("background work failed", exc_info=error)
                self._hand_over(lambda failure=error: self._failed(failure))
                return
            if done is not None:
                self._hand_over(lambda: done(result))

        future = self._executor.submit(job)
        with self._lock:
            self._pending.append(future)

    def hand_over(self, callback: Callable[[], None]) -> None:
        """From the worker's thread: run `callback` on the main thread at the next Clock tick,
        counted (`results_due`) until it has run."""
        self._hand_over(callback)

    def _hand_over(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the main thread at the next Clock tick, counted until it has run."""
        with self._lock:
            self._results_due += 1

        def run(_dt: float) -> None:
            try:
                callback()
            finally:
                with self._lock:
                    self._results_due -= 1

        Clock.schedule_once(run)

    @property
    def results_due(self) -> int:
        """Results handed to the Clock that the main thread has not run yet."""
        with self._lock:
            return self._results_due

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the work queued so far has finished (tests and shut-down); False on time-out."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                self._pending = [future for future in self._pending if not future.done()]
                pending = list(self._pending)
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                pending[0].exception(timeout=remaining)
            except FutureTimeout:
                return False

    def close(self) -> None:
        """Finish what is queued, then take no more."""
        self.closed = True
        self._executor.shutdown(wait=True)
