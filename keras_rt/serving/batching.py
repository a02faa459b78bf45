"""Optional request batching: concurrent requests to one signature run as one call.

Requests to a *batchable* signature (every input and output has a leading
batch dimension) wait in a per-(model, signature) queue; one worker takes all
queued requests (up to `max_rows` rows), concatenates their inputs along axis
0, calls the signature once in the thread pool and splits the outputs back.
While a batch runs, new requests queue up, so batches grow with the load
and a lone request waits for nobody (`timeout_s=0`, the default); a positive
`timeout_s` waits that long for company before running a batch.
"""

from __future__ import annotations

import asyncio
import dataclasses
from concurrent.futures import Executor
from typing import Any

import numpy as np

from keras_rt.serving.servable import SignatureInfo


@dataclasses.dataclass
class _Item:
    signature: SignatureInfo
    arrays: dict[str, np.ndarray]
    rows: int
    future: asyncio.Future


class Batcher:
    """Merges concurrent predict calls per (model, signature).

    Args:
        executor: where the TensorFlow calls run.
        max_rows: the most rows in one merged call (a larger request runs alone).
        timeout_s: how long a batch waits for more requests before it runs.

    Use it from the event loop: `outputs = await batcher.call(key, signature, arrays, rows)`.
    """

    def __init__(self, executor: Executor, *, max_rows: int = 64, timeout_s: float = 0.0):
        if max_rows < 1:
            raise ValueError(f"`max_rows` must be >= 1. Received: max_rows={max_rows}")
        if timeout_s < 0:
            raise ValueError(f"`timeout_s` must be >= 0. Received: timeout_s={timeout_s}")
        self.executor = executor
        self.max_rows = max_rows
        self.timeout_s = timeout_s
        self._queues: dict[Any, asyncio.Queue] = {}
        self._workers: list[asyncio.Task] = []
        self.batches = 0  # merged calls made (for tests and the benchmark)
        self.requests = 0

    async def call(
        self, key: Any, signature: SignatureInfo, arrays: dict[str, np.ndarray], rows: int
    ) -> dict[str, np.ndarray]:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = asyncio.Queue()
            self._workers.append(loop.create_task(self._work(queue)))
        future = loop.create_future()
        queue.put_nowait(_Item(signature, arrays, rows, future))
        return await future

    async def close(self) -> None:
        """Cancels the workers (pending requests get `CancelledError`)."""
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        self._workers.clear()
        self._queues.clear()

    async def _work(self, queue: asyncio.Queue) -> None:
        loop = asyncio.get_running_loop()
        carry: _Item | None = None
        while True:
            first = carry if carry is not None else await queue.get()
            carry = None
            batch, rows = [first], first.rows
            deadline = loop.time() + self.timeout_s
            while rows < self.max_rows:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    try:
                        item = await asyncio.wait_for(queue.get(), remaining)
                    except asyncio.TimeoutError:
                        break
                if item.signature is not first.signature or rows + item.rows > self.max_rows:
                    carry = item  # another version's signature, or too big: next batch
                    break
                batch.append(item)
                rows += item.rows
            batch = [item for item in batch if not item.future.done()]  # client went away
            if not batch:
                continue
            try:
                results = await loop.run_in_executor(self.executor, _run_batch, batch)
            except BaseException as error:  # noqa: BLE001 - hand every error to the callers
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            self.batches += 1
            self.requests += len(batch)
            for item, (ok, result) in zip(batch, results):
                if not item.future.done():
                    if ok:
                        item.future.set_result(result)
                    else:
                        item.future.set_exception(result)


def _run_batch(batch: list[_Item]) -> list[tuple[bool, Any]]:
    """Runs a batch; returns `(ok, outputs or exception)` per request."""
    signature = batch[0].signature
    if len(batch) > 1:
        try:
            merged = {
                name: np.concatenate([item.arrays[name] for item in batch], axis=0)
                for name in signature.inputs
            }
            outputs = signature(merged)
            total = sum(item.rows for item in batch)
            if all(v.ndim >= 1 and v.shape[0] == total for v in outputs.values()):
                bounds = np.cumsum([item.rows for item in batch])[:-1]
                split = {name: np.split(value, bounds) for name, value in outputs.items()}
                return [
                    (True, {name: split[name][i] for name in outputs}) for i in range(len(batch))
                ]
        except Exception:  # noqa: BLE001 - retried one by one so a bad request fails alone
            pass
    results: list[tuple[bool, Any]] = []
    for item in batch:
        try:
            results.append((True, signature(item.arrays)))
        except Exception as error:  # noqa: BLE001
            results.append((False, error))
    return results
