"""Command line of the full kit: ``python -m suitkaise demo`` (or the ``suitkaise`` console script)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="suitkaise", description="The suitkaise kit.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run a short real workload that exercises every package")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from suitkaise._private.demo import run_demo

        return run_demo()
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
