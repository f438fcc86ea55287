# SPDX-License-Identifier: Apache-2.0
"""What the Python benches share about the vigild they start."""

import shutil
import subprocess


def stop_daemon(proc, root):
    """Stops the bench's vigild (killing it if it ignores SIGTERM for 30 s) and removes its
    temporary directory."""
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(root, ignore_errors=True)
