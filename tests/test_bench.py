"""`python -m bench delivery` runs end to end at a tiny size and prints every line it promises.

Only that it runs and reports: its numbers are the benchmark's business, never a test's."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_delivery_benchmark_prints_every_ratio_with_its_goal() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "delivery",
            "--messages=60",
            "--rounds=1",
            "--paced-seconds=1",
            "--reads=40",
            "--memory=0",
            "--backends=sqlite",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout
    assert done.returncode in (0, 1), done.stderr  # 1: a goal was missed at this size, not a crash
    for line in (
        "loopback sqlite served / bare = ",
        "10 ms round trip sqlite served / bare = ",
        "10 ms round trip sqlite served / courier = ",
        "10 ms round trip, no PIPELINING sqlite served / bare = ",
        "(goal >= 0.7x)",
        "(goal >= 5x)",
        "enqueue-to-250 at ",
        "GetEmailProviderById p99 delivering / idle = ",
    ):
        assert line in out, f"{line!r} missing from:\n{out}\n{done.stderr}"
