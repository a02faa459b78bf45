from keras_rt.export import signature_changes

OLD = {
    "decode": {"inputs": {"z": ("float32", (None, 2))}, "outputs": {"x": ("float32", (None, 64))}},
    "sample": {"inputs": {"num_samples": ("int32", ())}, "outputs": {"x": ("float32", (None, 64))}},
}


def test_identical_signatures_are_compatible():
    assert signature_changes(OLD, OLD) == []


def test_a_new_signature_is_compatible():
    new = {**OLD, "extra": {"inputs": {}, "outputs": {}}}
    assert signature_changes(OLD, new) == []


def test_every_kind_of_change_is_named():
    new = {
        "decode": {
            "inputs": {"z": ("float16", (None, 3)), "label": ("int32", (None,))},
            "outputs": {},
        }
    }
    assert signature_changes(OLD, new) == [
        "decode: input 'label' added",
        "decode: input 'z' dtype float32 -> float16",
        "decode: input 'z' shape (None, 2) -> (None, 3)",
        "decode: output 'x' removed",
        "sample: signature removed",
    ]


def test_unknown_rank_is_shown():
    new = {
        **OLD,
        "sample": {"inputs": {"num_samples": ("int32", None)}, "outputs": OLD["sample"]["outputs"]},
    }
    assert signature_changes(OLD, new) == ["sample: input 'num_samples' shape () -> unknown rank"]
