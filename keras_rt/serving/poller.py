"""`Poller`: a daemon thread that calls a function every N seconds until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger("keras_rt.serving")


class Poller:
    """Calls `fn()` every `seconds` in a daemon thread; an exception is logged, never fatal.

    Used by the model store (`refresh` of the base path) and the model config
    watcher (re-reading `--model-config-file`).

    Args:
        fn: what to call.
        seconds: the interval; 0 or less: `start` does nothing.
        name: the thread's name (also in the log line of a failure).

    Example:

    >>> poller = Poller(lambda: None, 5.0, "keras-rt-example")
    >>> poller.start(); poller.stop()
    """

    def __init__(self, fn: Callable[[], object], seconds: float, name: str) -> None:
        self.fn, self.seconds, self.name = fn, seconds, name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Starts the thread (once; nothing when `seconds` <= 0)."""
        if self.seconds <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops the thread, waiting for a call in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.fn()
            except Exception:  # noqa: BLE001 - the poller must never die
                logger.exception("%s failed; retrying in %ss", self.name, self.seconds)


__all__ = ["Poller"]
