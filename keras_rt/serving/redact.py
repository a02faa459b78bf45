"""Keep file-system paths out of what the server answers: they go to the log only.

Error text built from exceptions (load failures, TensorFlow runtime errors)
often names files. `redact_paths` rewrites the folders the caller knows (for
example a version folder as `NAME/VERSION`) and replaces any other absolute
path with `<path>`, so an HTTP client learns nothing about the server's disk.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

# An absolute POSIX path (/a/b), a home path (~/a), a file URL, or a Windows path (C:\a, \\host\a).
_PATH_RE = re.compile(
    r"""(?:file://)?(?:~|[A-Za-z]:)?(?:[/\\]{1,2}(?!job:|device:)[^\s'"`,;:()\[\]{}<>|*?]+)+[/\\]?"""
)
# What may precede a path for it to count as one (not "a/b" inside a word, nor "http://").
_BEFORE_RE = re.compile(r"""(?:^|[\s'"`(\[{=,;<])$""")
_END = r"""(?=$|[/\\\s'"`,;:)\]}>])"""


def redact_paths(text: str, known: Mapping[str, str] | None = None) -> str:
    """`text` with the folders in `known` replaced by their labels and other paths by `<path>`.

    Args:
        text: an error message.
        known: `{folder: label}`, e.g. `{"/srv/models/m/3": "m/3"}`; each
            folder is matched as given, absolute and resolved (symlinks).

    Returns:
        The message without absolute file-system paths.

    Example:

    >>> redact_paths("Cannot parse /srv/m/3/saved_model.pb", {"/srv/m/3": "m/3"})
    'Cannot parse m/3/saved_model.pb'
    >>> redact_paths("No such file: '/etc/secret'")
    "No such file: '<path>'"
    """
    for folder, label in sorted((known or {}).items(), key=lambda kv: -len(kv[0])):
        for form in sorted(
            {folder, os.path.abspath(folder), os.path.realpath(folder)}, key=len, reverse=True
        ):
            form = form.rstrip("/\\")
            if form and form != ".":
                text = re.sub(re.escape(form) + _END, label.replace("\\", "\\\\"), text)
    return _PATH_RE.sub(_replace, text)


def _replace(match: re.Match) -> str:
    before = match.string[: match.start()]
    value = match.group(0)
    if not _BEFORE_RE.search(before[-1:] if before else ""):
        return value  # e.g. "m/3/saved_model.pb" or "a/b" inside a word: not absolute
    if value.strip("/\\") == "" or value in ("/", "//"):
        return value
    return "<path>"
