"""The training pipeline: index shuffling, label pairing, reproducibility, fixed tuning."""

import numpy as np

from keras_rt.datasets.pipeline import eval_pipeline, train_pipeline

N = 50


def _arrays():
    # Image i is filled with i / N: every example is identifiable from its pixels.
    ids = np.arange(N, dtype=np.float32) / N
    x = np.broadcast_to(ids[:, None, None, None], (N, 2, 2, 1)).copy()
    y = np.arange(N, dtype=np.int32)
    return x, y


def _epoch(dataset, with_labels=False):
    ids, labels = [], []
    for batch in dataset:
        images = batch[0] if with_labels else batch
        ids.append(np.rint(images.numpy()[:, 0, 0, 0] * N).astype(int))
        if with_labels:
            labels.append(batch[1].numpy())
    ids = np.concatenate(ids)
    return (ids, np.concatenate(labels)) if with_labels else ids


def _train(seed=0, **kwargs):
    x, y = _arrays()
    options = {"batch_size": 8, "seed": seed, "binarized": False, "with_labels": False}
    options.update(kwargs)
    return train_pipeline(x, y, shuffle=True, **options)


def test_each_epoch_is_a_fresh_permutation():
    dataset = _train()
    first, second = _epoch(dataset), _epoch(dataset)
    assert sorted(first) == list(range(N)) and sorted(second) == list(range(N))
    assert list(first) != list(second)  # reshuffled (1 chance in 50! to fail)
    assert list(first) != list(range(N))


def test_same_seed_same_orders_other_seed_other_order():
    a, b, c = _train(seed=3), _train(seed=3), _train(seed=4)
    for _ in range(2):
        order = _epoch(a)
        np.testing.assert_array_equal(order, _epoch(b))
        assert list(order) != list(_epoch(c))


def test_labels_stay_with_their_images():
    ids, labels = _epoch(_train(with_labels=True), with_labels=True)
    np.testing.assert_array_equal(ids, labels)


def test_unshuffled_and_eval_pipelines_keep_the_order():
    x, y = _arrays()
    unshuffled = train_pipeline(
        x, y, batch_size=8, seed=0, binarized=False, with_labels=False, shuffle=False
    )
    np.testing.assert_array_equal(_epoch(unshuffled), np.arange(N))
    evaluation = eval_pipeline(x, y, batch_size=8, with_labels=False)
    np.testing.assert_array_equal(_epoch(evaluation), np.arange(N))


def test_dynamic_binarization_draws_zeros_and_ones_afresh():
    x = np.full((N, 2, 2, 1), 0.5, np.float32)
    dataset = train_pipeline(
        x,
        np.zeros(N, np.int32),
        batch_size=N,
        seed=0,
        binarized=True,
        with_labels=False,
        shuffle=True,
    )
    a, b = (next(iter(dataset)).numpy() for _ in range(2))
    assert set(np.unique(a)) <= {0.0, 1.0}
    assert not np.array_equal(a, b)


def test_autotuner_is_off_and_prefetch_is_fixed():
    """tf.data's autotuner stalled `fit` between epochs; the pipelines run without it."""
    x, y = _arrays()
    for dataset in (_train(), eval_pipeline(x, y, batch_size=8, with_labels=False)):
        assert dataset.options().autotune.enabled is False
