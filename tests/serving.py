"""Running ``digitlab serve`` as a real process, for the web tests.

``tests/test_web.py`` and ``tests/test_web_examples.py`` start the command the
way a user does, talk to it over HTTP and stop it with Ctrl+C; this module is
imported by both (pytest puts ``tests/`` on the path).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def start_serve(tmp_path, *options):
    """``digitlab serve`` on a free port, in its own process group, with the
    examples folder ``tmp_path / "ex"``."""
    return subprocess.Popen(
        [sys.executable, "-m", "digitlab", "serve", "--port", "0"]
        + ["--examples", str(tmp_path / "ex"), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        start_new_session=True,  # like a terminal's: Ctrl+C reaches the group
    )


def interrupt(process) -> str:
    """Ctrl+C, as a terminal sends it to the whole group (workers included);
    wait for the server to stop and return what it wrote to stderr."""
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=30)
    errors = process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    return errors
