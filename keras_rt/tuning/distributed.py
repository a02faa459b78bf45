"""KerasTuner's chief/worker mode, read from its environment variables.

Run the same command in every process, with

    KERASTUNER_TUNER_ID     "chief" for the oracle's process, a unique name
                            ("tuner0", "tuner1", ...) for each worker
    KERASTUNER_ORACLE_IP    the chief's address (e.g. 127.0.0.1)
    KERASTUNER_ORACLE_PORT  the chief's port

The chief serves the oracle over gRPC and trains nothing; workers ask it for
trials, train them and report back. KerasTuner does the work; this module
only checks the settings up front so that a missing variable is a one-line
error instead of a traceback.
"""

from __future__ import annotations

import os

ENV_VARS = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


def tuner_role(environ=None) -> str:
    """`"local"` (no chief), `"chief"` or `"worker"`; raises `ValueError` on a partial setting."""
    environ = os.environ if environ is None else environ
    if "KERASTUNER_ORACLE_IP" not in environ:
        return "local"
    missing = [name for name in ENV_VARS if not environ.get(name)]
    if missing:
        raise ValueError(
            f"Distributed tuning needs all of {list(ENV_VARS)}; missing: {missing}. "
            "Unset KERASTUNER_ORACLE_IP to tune in one process."
        )
    port = environ["KERASTUNER_ORACLE_PORT"]
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"KERASTUNER_ORACLE_PORT must be a port number. Received: {port!r}")
    return "chief" if "chief" in environ["KERASTUNER_TUNER_ID"] else "worker"
