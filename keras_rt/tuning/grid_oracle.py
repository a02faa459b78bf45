"""`ResumableGridSearchOracle`: KerasTuner's grid oracle, able to continue in a new process.

KerasTuner 1.4.8's `GridSearchOracle` keeps two pieces of bookkeeping — the
trials in grid order and the queue of trials whose next grid point is still
to be handed out — in memory only, so a search reloaded in a fresh process
either stops early or fails with `KeyError` in `populate_space`
(keras-team/keras-tuner#1055; fix proposed in #1056). This subclass rebuilds
both from the reloaded trials, which is all the fix needs; everything else is
KerasTuner's own grid search.
"""

from __future__ import annotations

import functools

from keras_tuner.oracles import GridSearchOracle


class ResumableGridSearchOracle(GridSearchOracle):
    """`keras_tuner.oracles.GridSearchOracle` whose grid position survives a reload.

    Takes the same arguments as `GridSearchOracle`.

    Example:

    >>> import keras_tuner
    >>> from keras_rt.tuning.hypermodel import ZooHyperModel
    >>> from keras_rt.tuning.objectives import get_objective
    >>> hypermodel = ZooHyperModel("mlp_vae", "digits", input_shape=(64,), latent_dims=[2, 4])
    >>> oracle = ResumableGridSearchOracle(objective=get_objective("val_neg_elbo"), max_trials=5)
    >>> tuner = keras_tuner.Tuner(oracle=oracle, hypermodel=hypermodel, directory="runs/t")
    >>> tuner.oracle.objective.name, tuner.oracle.objective.direction
    ('val_neg_elbo', 'min')
    """

    def set_state(self, state):
        super().set_state(state)
        trials = [t for t in self.trials.values() if t.hyperparameters.values]
        trials.sort(
            key=functools.cmp_to_key(
                lambda a, b: self._compare(a.hyperparameters.values, b.hyperparameters.values)
            )
        )
        self._ordered_ids = type(self._ordered_ids)()
        for trial in trials:
            self._ordered_ids.insert(trial.trial_id)
        # Each trial may still lead to an untried grid point; populate_space
        # skips the ones whose next point has been tried already.
        self._populate_next = [t.trial_id for t in trials]
