"""What every keras-rt command shares: argument parsing and user-facing errors."""

from __future__ import annotations

import argparse
import contextlib
import glob
import importlib
import importlib.abc
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator, Sequence

AddArguments = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]

# Errors that a user causes (bad flag values, missing files, no network for a
# download) are shown as one line; set KERAS_RT_DEBUG=1 to see the traceback.
USER_ERRORS = (
    ValueError,
    FileNotFoundError,
    NotADirectoryError,
    PermissionError,
    FloatingPointError,  # a diverged run: "try a lower --learning-rate"
)


def debugging() -> bool:
    """Whether `KERAS_RT_DEBUG` asks for tracebacks and TensorFlow's own messages."""
    return os.environ.get("KERAS_RT_DEBUG", "") not in ("", "0")


def has_gpu_device() -> bool:
    """Whether this machine has an NVIDIA GPU device node (checked without importing TensorFlow)."""
    return bool(glob.glob("/dev/nvidia[0-9]*") or os.path.exists("/dev/dxg"))


def quiet_tensorflow() -> None:
    """Hides TensorFlow's C++ chatter: on machines without a GPU also its CUDA probing errors
    (`failed call to cuInit`); `KERAS_RT_DEBUG=1` keeps everything."""
    if debugging():
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2" if has_gpu_device() else "3")


@contextlib.contextmanager
def silenced_stderr_fd() -> Iterator[None]:
    """Sends the process's file descriptor 2 (C++ libraries write there directly) to /dev/null."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Imports TensorFlow, the first time anything imports it, with file descriptor 2 silenced."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        try:
            with silenced_stderr_fd():
                module = importlib.import_module("tensorflow")
        except ImportError:
            return None  # the normal import shows the error
        return importlib.util.spec_from_loader(fullname, _Loaded(module))


class _Loaded(importlib.abc.Loader):
    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        pass


def import_tensorflow_quietly() -> None:
    """Hides TensorFlow's CUDA-probing lines on machines without a GPU, when it is first imported.

    Those lines ("Could not find cuda drivers", "All log messages before
    absl::InitializeLog()") are written by C++ code at import time, before any
    log level applies. TensorFlow is still imported only when a command needs
    it (so bad flags fail fast), and an import error is still shown.
    """
    if debugging() or has_gpu_device() or "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())


def run_command(run: Run, args: argparse.Namespace, prog: str) -> int:
    """Calls `run(args)`, turning user errors into a one-line message and exit 2."""
    try:
        import_tensorflow_quietly()
        return int(run(args) or 0)
    except USER_ERRORS as error:
        if debugging():
            raise
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def main_for(
    add_arguments: AddArguments,
    run: Run,
    argv: Sequence[str] | None,
    prog: str,
    description: str | None,
) -> int:
    """Parses `argv` with a parser built by `add_arguments` and runs the command."""
    quiet_tensorflow()
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_command(run, args, prog)
