"""`StepProgbarLogger`: Keras's progress bar with a right step count under `steps_per_execution`."""

from __future__ import annotations

import keras


class StepProgbarLogger(keras.callbacks.ProgbarLogger):
    """`keras.callbacks.ProgbarLogger` whose step never passes the epoch's number of steps.

    With `steps_per_execution=k`, Keras reports the last call of an epoch as
    step `k * calls`, past the epoch's end when `k` does not divide the number
    of batches (`16/11 ... -1s`); this bar stops at the last step instead.
    Verbosity is Keras's: 1 a progress bar, 2 one line per epoch, 0 nothing.

    Example:

    >>> model.fit(data, epochs=3, callbacks=[StepProgbarLogger()], verbose=2)  # doctest: +SKIP
    """

    def _update_progbar(self, batch, logs=None):
        if self.target is not None:
            batch = min(batch, self.target - 1)
        super()._update_progbar(batch, logs)


__all__ = ["StepProgbarLogger"]
