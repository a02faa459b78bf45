"""A cheap fingerprint of a folder's files, so a version that failed to load is retried when it changes.

A version folder may be copied in file by file (not renamed into place): its
first load fails, and it must be tried again once any of its files, at any
depth (`variables/`, `assets/`), has changed.
"""

from __future__ import annotations

import os

FINGERPRINT_MAX_ENTRIES = 10_000
FINGERPRINT_MAX_DEPTH = 8


def folder_fingerprint(path: str) -> tuple:
    """A value that changes when any file under `path` changes (added, removed, resized, touched).

    `(relative path, size, mtime)` of every entry, recursively, without
    following symlinks; bounded to `FINGERPRINT_MAX_ENTRIES` entries and
    `FINGERPRINT_MAX_DEPTH` levels (beyond that, only the count of what was
    left out).

    Args:
        path: a folder (a model version).

    Returns:
        A tuple of `(relative path, size, mtime_ns)`, sorted, then
        `("<left out>", count)`.

    Example:

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> before = folder_fingerprint(folder)
    >>> open(os.path.join(folder, "saved_model.pb"), "wb").close()
    >>> folder_fingerprint(folder) != before
    True
    """
    parts: list[tuple] = []
    left_out = 0
    stack = [("", 0)]
    while stack:
        relative, depth = stack.pop()
        if len(parts) >= FINGERPRINT_MAX_ENTRIES:
            left_out += 1
            continue
        try:
            with os.scandir(os.path.join(path, relative)) as entries:
                listed = sorted(entries, key=lambda e: e.name)
        except OSError:
            parts.append((relative, None, None))
            continue
        for entry in listed:
            if len(parts) >= FINGERPRINT_MAX_ENTRIES:
                left_out += 1
                continue
            name = os.path.join(relative, entry.name)
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                parts.append((name, None, None))
                continue
            parts.append((name, st.st_size, st.st_mtime_ns))
            if entry.is_dir(follow_symlinks=False):
                if depth + 1 < FINGERPRINT_MAX_DEPTH:
                    stack.append((name, depth + 1))
                else:
                    left_out += 1
    return (*sorted(parts, key=lambda p: p[0]), ("<left out>", left_out))
