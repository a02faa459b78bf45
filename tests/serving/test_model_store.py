"""ModelStore: discovery, path safety, version policy and retries (with a fake loader)."""

import os
import time

import pytest

from keras_rt.serving import ModelStore, NotFound
from keras_rt.serving.model_store import parse_version, version_folders


class FakeServable:
    def __init__(self, name, version, path):
        self.name, self.version, self.path = name, version, path
        self.signatures = {"serving_default": None}


def fake_loader(name, version, path):
    if os.path.exists(os.path.join(path, "BROKEN")):
        raise ValueError("cannot load\nsecond line")
    return FakeServable(name, version, path)


def make(base, name, *versions, broken=()):
    for v in versions:
        path = base / name / str(v)
        path.mkdir(parents=True)
        (path / "saved_model.pb").write_bytes(b"x")
        if v in broken:
            (path / "BROKEN").write_text("")


def store_for(base, **kwargs):
    store = ModelStore(str(base), loader=fake_loader, poll_seconds=0, **kwargs)
    store.refresh()
    return store


def test_serves_newest_versions_of_every_model(tmp_path):
    make(tmp_path, "a", 1, 2, 10)
    make(tmp_path, "b", 3)
    store = store_for(tmp_path)
    assert store.names() == ["a", "b"]
    assert store.get("a").version == 10 and store.get("b").version == 3
    with pytest.raises(NotFound):
        store.get("a", 2)  # only the newest version is loaded by default
    two = store_for(tmp_path, num_versions=2)
    assert two.get("a", "2").version == 2 and two.get("a", 2).version == 2
    assert two.get("a").version == 10


def test_path_safety_skips_odd_names_and_symlinks_outside(tmp_path):
    base, outside = tmp_path / "base", tmp_path / "outside"
    make(base, "good", 1)
    make(outside, "evil", 1)
    os.symlink(outside / "evil", base / "linked")  # model folder outside the base
    os.symlink(outside / "evil" / "1", base / "good" / "2")  # version folder outside the model
    for odd in (".hidden", "has space", "a:b"):
        make(base, odd, 1)
    (base / "good" / "3x").mkdir()
    (base / "good" / ".tmp-abc").mkdir()
    store = store_for(base)
    assert store.names() == ["good"]
    assert store.get("good").version == 1
    assert sorted(version_folders(str(base / "good"))) == [1]
    for name in ("..", "../outside/evil", "/tmp", "good/1", ""):
        with pytest.raises(NotFound):
            store.get(name)
    for version in ("../1", "1/..", "-1", "1.0", "", "x", True, -1, 10**30):
        with pytest.raises(NotFound):
            store.get("good", version)


def test_broken_version_is_reported_then_retried_when_its_folder_changes(tmp_path):
    make(tmp_path, "m", 1)
    store = store_for(tmp_path)
    make(tmp_path, "m", 2, broken=(2,))
    store.refresh()
    assert store.get("m").version == 1
    status = store.status_json("m")["model_version_status"]
    assert status[0] == {
        "version": "2",
        "state": "END",
        "status": {"error_code": "UNKNOWN", "error_message": "ValueError: cannot load"},
    }
    assert status[1]["state"] == "AVAILABLE"
    with pytest.raises(NotFound, match="failed to load"):
        store.get("m", 2)
    store.refresh()  # unchanged: not retried, still reported
    assert store.status_json("m", 2)["model_version_status"][0]["state"] == "END"
    time.sleep(0.01)
    os.remove(tmp_path / "m" / "2" / "BROKEN")  # the folder changes: retried
    store.refresh()
    assert store.get("m").version == 2


def test_removed_versions_and_models_are_unloaded(tmp_path):
    make(tmp_path, "m", 1, 2)
    make(tmp_path, "n", 1)
    store = store_for(tmp_path)
    os.rename(tmp_path / "m" / "2", tmp_path / "m" / ".old")
    os.rename(tmp_path / "n", tmp_path / ".n")
    store.refresh()
    assert store.get("m").version == 1 and store.names() == ["m"]
    with pytest.raises(NotFound):
        store.status_json("n")


def test_constructor_validates_arguments(tmp_path):
    make(tmp_path, "m", 1)
    with pytest.raises(FileNotFoundError):
        ModelStore(str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError):
        ModelStore(models={"m": str(tmp_path / "missing")})
    with pytest.raises(ValueError, match="version folder"):
        ModelStore(models={"m": str(tmp_path / "m" / "1")})
    with pytest.raises(ValueError, match="Received: name='../m'"):
        ModelStore(models={"../m": str(tmp_path / "m")})
    with pytest.raises(ValueError):
        ModelStore()
    with pytest.raises(ValueError):
        ModelStore(str(tmp_path), num_versions=0)
    store = ModelStore(models={"renamed": str(tmp_path / "m")}, loader=fake_loader, poll_seconds=0)
    store.refresh()
    assert store.names() == ["renamed"] and store.get("renamed").version == 1


def test_parse_version():
    assert parse_version("7") == 7 and parse_version(0) == 0
    for bad in ("07a", "../1", "-1", " 1", "1e3", None, 1.0):
        with pytest.raises(NotFound):
            parse_version(bad)


def test_polling_thread_picks_up_versions(tmp_path):
    make(tmp_path, "m", 1)
    store = ModelStore(str(tmp_path), loader=fake_loader, poll_seconds=0.05)
    store.refresh()
    store.start_polling()
    try:
        make(tmp_path, "m", 2)
        deadline = time.monotonic() + 5
        while store.get("m").version != 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store.get("m").version == 2
    finally:
        store.stop_polling()


def test_a_failed_version_is_retried_when_only_a_file_in_a_subfolder_changes(tmp_path):
    def loader(name, version, path):
        data = os.path.join(path, "variables", "variables.data")
        if open(data, "rb").read() != b"complete":
            raise ValueError("Read less bytes than requested")
        return FakeServable(name, version, path)

    make(tmp_path, "m", 1)
    variables = tmp_path / "m" / "1" / "variables"
    variables.mkdir()
    (variables / "variables.data").write_bytes(b"part")  # still being copied
    store = ModelStore(str(tmp_path), loader=loader, poll_seconds=0)
    store.refresh()
    assert store.status_json("m")["model_version_status"][0]["state"] == "END"
    store.refresh()  # unchanged: not retried
    assert store.status_json("m")["model_version_status"][0]["state"] == "END"
    (variables / "variables.data").write_bytes(b"complete")  # rewritten in place
    store.refresh()
    assert store.get("m").version == 1


def test_fingerprint_sees_nested_changes_and_is_bounded(tmp_path, monkeypatch):
    from keras_rt.serving import fingerprint

    (tmp_path / "variables").mkdir()
    data = tmp_path / "variables" / "variables.data"
    data.write_bytes(b"partial")
    before = fingerprint.folder_fingerprint(str(tmp_path))
    data.write_bytes(b"complete!")  # same names, same folder listings: only a size/mtime change
    after = fingerprint.folder_fingerprint(str(tmp_path))
    assert before != after
    os.utime(data, ns=(1, 1))
    assert fingerprint.folder_fingerprint(str(tmp_path)) != after
    assert ("variables/variables.data", 9, 1) in fingerprint.folder_fingerprint(str(tmp_path))
    monkeypatch.setattr(fingerprint, "FINGERPRINT_MAX_ENTRIES", 3)
    for i in range(10):
        (tmp_path / f"f{i}").write_bytes(b"")
    bounded = fingerprint.folder_fingerprint(str(tmp_path))
    assert len(bounded) == 4 and bounded[-1][0] == "<left out>" and bounded[-1][1] > 0


def test_stale_tmp_folders_are_never_loaded_or_listed(tmp_path):
    make(tmp_path, "m", 1)
    # What an export left behind when it was interrupted: complete-looking, but not a version.
    for stale in ("m/.tmp-0123abcd", "m/.tmp-7", "m/7.tmp", ".tmp-m/1", ".tmp-3f2a/1"):
        (tmp_path / stale).mkdir(parents=True)
        (tmp_path / stale / "saved_model.pb").write_bytes(b"x")
    loaded = []
    store = ModelStore(
        str(tmp_path),
        loader=lambda *args: loaded.append(args[2]) or fake_loader(*args),
        poll_seconds=0,
    )
    store.refresh()
    assert loaded == [str(tmp_path / "m" / "1")]
    assert store.names() == ["m"]
    assert [s["version"] for s in store.status_json("m")["model_version_status"]] == ["1"]
    assert sorted(version_folders(str(tmp_path / "m"))) == [1]
