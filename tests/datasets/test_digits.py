"""`digits` through `load_dataset`: shapes, splits, determinism, binarization."""

import numpy as np
import pytest
import tensorflow as tf

from keras_rt.datasets import load_arrays, load_dataset


def _epoch(dataset):
    """One pass over a dataset, as a list of numpy batches (or tuples)."""
    return [tf.nest.map_structure(lambda t: t.numpy(), b) for b in dataset]


def _concat(batches):
    return np.concatenate(batches, axis=0)


def test_shapes_ranges_and_split_sizes():
    splits = load_dataset("digits", batch_size=100)
    assert splits.name == "digits"
    assert splits.image_shape == (8, 8, 1)
    assert splits.input_shape == (8, 8, 1)
    assert splits.num_classes == 10
    assert splits.binarized is False
    assert splits.num_examples == {"train": 1297, "validation": 200, "test": 300}
    for split in ("train", "validation", "test"):
        batches = _epoch(getattr(splits, split))
        x = _concat(batches)
        assert x.dtype == np.float32
        assert x.shape == (splits.num_examples[split], 8, 8, 1)
        assert batches[0].shape == (100, 8, 8, 1)
        assert 0.0 <= x.min() and x.max() <= 1.0
        # digits are k / 16 grey levels, not already binary.
        np.testing.assert_allclose(x * 16, np.round(x * 16), atol=1e-5)
        assert len(np.unique(x)) > 2


def test_splits_are_disjoint_and_cover_all_images():
    arrays = load_arrays("digits")
    flat = [a[0].reshape(len(a[0]), -1) for a in arrays.values()]
    assert sum(len(f) for f in flat) == 1797
    rows = {split: {r.tobytes() for r in f} for split, f in zip(arrays, flat)}
    # scikit-learn's digits has a few exact duplicates; overlaps stay tiny.
    assert len(rows["train"] & rows["test"]) < 5
    assert len(rows["validation"] & rows["test"]) < 5


def test_same_seed_same_data_and_order_other_seed_differs():
    first = _concat(_epoch(load_dataset("digits", batch_size=64, seed=3).train))
    again = _concat(_epoch(load_dataset("digits", batch_size=64, seed=3).train))
    other = _concat(_epoch(load_dataset("digits", batch_size=64, seed=4).train))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    test3 = load_dataset("digits", seed=3).test_arrays()[0]
    test4 = load_dataset("digits", seed=4).test_arrays()[0]
    assert not np.array_equal(test3, test4)  # the split is seeded too.


def test_train_is_reshuffled_each_epoch_and_shuffle_false_keeps_order():
    splits = load_dataset("digits", batch_size=1297)
    epoch1, epoch2 = _epoch(splits.train)[0], _epoch(splits.train)[0]
    assert not np.array_equal(epoch1, epoch2)
    # Same images, another order.
    np.testing.assert_allclose(np.sort(epoch1.ravel()), np.sort(epoch2.ravel()))

    ordered = load_dataset("digits", batch_size=500, shuffle=False)
    np.testing.assert_array_equal(_concat(_epoch(ordered.train)), load_arrays("digits")["train"][0])


def test_flatten():
    splits = load_dataset("digits", batch_size=32, flatten=True)
    assert splits.input_shape == (64,)
    assert splits.image_shape == (8, 8, 1)
    assert next(iter(splits.train)).shape == (32, 64)
    assert splits.test_arrays()[0].shape == (300, 64)


def test_with_labels():
    splits = load_dataset("digits", batch_size=50, with_labels=True, shuffle=False)
    x, y = next(iter(splits.train))
    assert x.shape == (50, 8, 8, 1)
    assert y.dtype == tf.int32 and y.shape == (50,)
    raw_x, raw_y = load_arrays("digits")["train"]
    np.testing.assert_array_equal(x.numpy(), raw_x[:50])
    np.testing.assert_array_equal(y.numpy(), raw_y[:50])
    ys = _concat([b[1] for b in _epoch(splits.test)])
    np.testing.assert_array_equal(ys, splits.test_arrays()[1])
    assert set(np.unique(ys)) <= set(range(10))


def test_default_elements_are_x_only():
    spec = load_dataset("digits").train.element_spec
    assert isinstance(spec, tf.TensorSpec)
    assert spec.shape.as_list() == [None, 8, 8, 1] and spec.dtype == tf.float32


def test_max_examples_caps_every_split():
    splits = load_dataset("digits", batch_size=16, max_examples=40)
    assert splits.num_examples == {"train": 40, "validation": 40, "test": 40}
    assert sum(len(b) for b in _epoch(splits.train)) == 40
    assert splits.test_arrays()[0].shape == (40, 8, 8, 1)


def _bernoulli_tolerance(p):
    """Five standard deviations of the mean of independent Bernoulli(p) draws."""
    return 5.0 * np.sqrt(np.sum(p * (1.0 - p))) / p.size


def test_binarized_train_is_redrawn_each_epoch():
    splits = load_dataset("digits", batch_size=1297, binarized=True, shuffle=False)
    assert splits.binarized is True
    grey = load_arrays("digits")["train"][0]
    epoch1, epoch2 = _epoch(splits.train)[0], _epoch(splits.train)[0]
    for draw in (epoch1, epoch2):
        assert set(np.unique(draw)) == {0.0, 1.0}
        assert draw.dtype == np.float32
        # Bernoulli(p): never 1 where p = 0, always 1 where p = 1.
        assert np.all(draw[grey == 0.0] == 0.0)
        assert np.all(draw[grey == 1.0] == 1.0)
        assert abs(draw.mean() - grey.mean()) < _bernoulli_tolerance(grey)
    assert not np.array_equal(epoch1, epoch2)
    # Each draw is independent: about 2 p (1 - p) of the pixels differ.
    expected = np.mean(2 * grey * (1 - grey))
    changed = np.mean(epoch1 != epoch2)
    assert abs(changed - expected) < 5 * np.sqrt(expected / grey.size)


def test_binarized_train_is_reproducible_for_a_seed():
    a = load_dataset("digits", batch_size=256, binarized=True, seed=7)
    b = load_dataset("digits", batch_size=256, binarized=True, seed=7)
    for _ in range(2):  # the first two epochs match, epoch by epoch.
        np.testing.assert_array_equal(_concat(_epoch(a.train)), _concat(_epoch(b.train)))


def test_binarized_eval_is_fixed():
    splits = load_dataset("digits", batch_size=64, binarized=True, with_labels=True)
    grey = load_arrays("digits")["test"][0]
    x_test, y_test = splits.test_arrays()
    assert set(np.unique(x_test)) == {0.0, 1.0}
    assert abs(x_test.mean() - grey.mean()) < _bernoulli_tolerance(grey)
    for _ in range(2):
        batches = _epoch(splits.test)
        np.testing.assert_array_equal(_concat([b[0] for b in batches]), x_test)
        np.testing.assert_array_equal(_concat([b[1] for b in batches]), y_test)
    x_val, _ = splits.validation_arrays()
    x_val_pipeline = _concat([b[0] for b in _epoch(splits.validation)])
    np.testing.assert_array_equal(x_val_pipeline, x_val)
    again = load_dataset("digits", binarized=True).test_arrays()[0]
    np.testing.assert_array_equal(again, x_test)


def test_arrays_are_read_only_and_train_arrays_refused():
    splits = load_dataset("digits")
    x, _ = splits.test_arrays()
    with pytest.raises(ValueError):
        x[0, 0, 0, 0] = 1.0
    with pytest.raises(ValueError, match="split='train'"):
        splits.arrays("train")
