"""Local node start-up: seconds from `start` to a healthy cluster (the distribution already unpacked).

.venv/bin/python bench/es_start.py [--runs 3] [--port 9293]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--port", type=int, default=9293)
    args = ap.parse_args()

    from helpers.es import LocalNode, distribution_home, find_java

    distribution_home()
    node = LocalNode(http_port=args.port, name=f"bench-{args.port}")
    node.stop()
    rows = []
    for i in range(args.runs):
        t = time.perf_counter()
        status = node.start()
        rows.append([i + 1, status["version"], status["status"], time.perf_counter() - t])
        node.stop()
    java, version = find_java()
    print("## Local node: start to healthy\n")
    print(table(["run", "version", "health", "seconds"], rows))
    print(f"\nJava {version} ({java}). Machine: {machine()}")


if __name__ == "__main__":
    main()
