"""What every keras-rt command shares: argument parsing and user-facing errors."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

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


def quiet_tensorflow() -> None:
    """Hides TensorFlow's C++ start-up chatter (CUDA probing on CPU machines)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run_command(run: Run, args: argparse.Namespace, prog: str) -> int:
    """Calls `run(args)`, turning user errors into a one-line message and exit 2."""
    try:
        return int(run(args) or 0)
    except USER_ERRORS as error:
        if os.environ.get("KERAS_RT_DEBUG"):
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
