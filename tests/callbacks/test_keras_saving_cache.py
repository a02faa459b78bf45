import keras
import numpy as np
from keras.src.backend.common import global_state
from keras.src.optimizers import optimizer as optimizer_module
from keras.src.saving import saving_lib

from keras_rt.callbacks import CrashSafeBackup
from keras_rt.callbacks.keras_saving_cache import install_saving_skipset_cache


def _count_reference_optimizers(monkeypatch) -> list:
    """Counts `Optimizer` objects built (Keras builds one to list an optimizer's skip-set)."""
    built = []
    original = optimizer_module.Optimizer.__init__

    def counting_init(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(optimizer_module.Optimizer, "__init__", counting_init)
    return built


def test_skipset_is_computed_once_per_type(monkeypatch):
    install_saving_skipset_cache()
    keras.backend.clear_session()
    built = _count_reference_optimizers(monkeypatch)
    first = saving_lib.get_attr_skipset("Optimizer")
    second = saving_lib.get_attr_skipset("Optimizer")
    assert second is first
    assert len(built) == 1
    assert "variables" not in first  # Keras's own set, unchanged
    assert "_self_unconditional_dependency_names" in first


def test_clear_session_clears_it_like_the_rest_of_keras_state():
    install_saving_skipset_cache()
    saving_lib.get_attr_skipset("Layer")
    assert global_state.get_global_attribute("saving_attr_skiplist_Layer") is not None
    keras.backend.clear_session()
    assert global_state.get_global_attribute("saving_attr_skiplist_Layer") is None


def test_install_is_idempotent():
    install_saving_skipset_cache()
    wrapped = saving_lib.get_attr_skipset
    install_saving_skipset_cache()
    assert saving_lib.get_attr_skipset is wrapped


def test_a_keras_without_the_function_is_left_alone(monkeypatch):
    import keras_rt.callbacks.keras_saving_cache as module

    monkeypatch.setattr(module, "_INSTALLED", False)
    monkeypatch.delattr(saving_lib, "get_attr_skipset")
    module.install_saving_skipset_cache()  # no error: nothing to fix
    assert not hasattr(saving_lib, "get_attr_skipset")
    CrashSafeBackup("unused")  # and the callback is still made


def test_backups_save_and_load_the_same_weights_with_the_cache(tmp_path, monkeypatch):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.Adam(0.01), loss="mse")
    x, y = np.random.default_rng(0).normal(size=(16, 3)), np.zeros((16, 2))
    backup = CrashSafeBackup(str(tmp_path / "backup"))  # installs the cache
    model.fit(x, y, epochs=2, verbose=0, callbacks=[backup])
    weights = [w.numpy() for w in model.weights + model.optimizer.variables]
    built = _count_reference_optimizers(monkeypatch)
    backup.save_finished(2)  # a third save in this session: the skip-sets come from the cache
    assert built == []
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    backup.set_model(model)
    backup.on_train_begin()
    restored = [w.numpy() for w in model.weights + model.optimizer.variables]
    assert len(restored) == len(weights)
    for saved, loaded in zip(weights, restored):
        np.testing.assert_array_equal(saved, loaded)
