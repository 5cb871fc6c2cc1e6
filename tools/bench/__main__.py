"""Run the benchmarks: ``python tools/bench [--quick] [--only P10,P5] [--no-write]``.

Each row compares ours against its peers measured in the same run and prints the ratio and bar.
Results go to ``docs/benchmarks/results.json`` (``results-quick.json`` with ``--quick``) and a chart
``docs/benchmarks/results.png`` when matplotlib is installed (bench dependency group).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as `python tools/bench`: make `tools.bench` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "tools.bench"

from tools.bench._core import Result, fmt_value

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "benchmarks"


def discover() -> list[str]:
    folder = Path(__file__).resolve().parent / "benchmarks"
    return sorted(p.stem for p in folder.glob("p[0-9]*.py"))


def _row_id(module: str) -> str:
    """``p01_pool_trivial`` -> ``P1`` (the ids of PERFORMANCE.md)."""
    return _normalize_id(module.split("_", 1)[0])


def _normalize_id(row_id: str) -> str:
    """``p01``, ``P1`` and ``P01`` all name row ``P1``."""
    row_id = row_id.strip().upper()
    digits = row_id.lstrip("P")
    return f"P{int(digits)}" if digits.isdigit() else row_id


def _fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    if ratio < 0.01:
        return f"1/{1 / ratio:,.0f}x" if ratio > 0 else "0x"
    return f"{ratio:.2f}x"


def print_table(results: list[Result]) -> None:
    header = ["id", "benchmark", "ours", "peers (ratio ours/peer)", "bar", "pass"]
    rows = []
    for r in results:
        peers = "; ".join(
            f"{name} {fmt_value(v, r.unit)} ({_fmt_ratio(r.ratio(name))})"
            for name, v in r.peers.items()
        )
        status = {True: "PASS", False: "FAIL", None: "-"}[r.passed]
        rows.append([r.id, r.name, fmt_value(r.ours, r.unit), peers or "-", r.bar, status])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join("{:<" + str(w) + "}" for w in widths)
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))


def write_chart(results: list[Result], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    labels: list[str] = []
    ratios: list[float] = []
    colors: list[str] = []
    for r in results:
        ratio = None if r.bar_peer is None else r.ratio(r.bar_peer)
        if ratio is None:
            continue
        labels.append(f"{r.id} {r.name}\nvs {r.bar_peer}")
        ratios.append(ratio)
        colors.append("tab:green" if r.passed else "tab:red")
    if not labels:
        return False
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(labels) + 1.5))
    ax.barh(labels, ratios, color=colors)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("time ratio ours / peer (lower is better; 1.0 = same as the peer)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_markdown(payload: dict[str, Any], path: Path) -> None:
    """The results table as Markdown (the docs page includes it)."""
    lines = [
        f"Run of {payload['date']}: Python {payload['python']}, {payload['cpus']} cores, "
        f"{'quick' if payload['quick'] else 'full'} run, `{payload['platform']}`.",
        "",
        "| id | benchmark | ours | peers (ratio ours / peer) | bar | result |",
        "|---|---|---|---|---|---|",
    ]
    for row in payload["results"]:
        unit = row["unit"]
        peers = "; ".join(
            f"{name} {fmt_value(value, unit)} ({_fmt_ratio(row['ratios'].get(name))})"
            for name, value in row["peers"].items()
        )
        status = {True: "PASS", False: "FAIL", None: "-"}[row["passed"]]
        cells = [
            row["id"],
            row["name"],
            fmt_value(row["ours"], unit),
            peers or "-",
            row["bar"],
            status,
        ]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="fewer sizes and repetitions (< 2 minutes)"
    )
    parser.add_argument("--only", default="", help="comma-separated row ids, e.g. P10,P5")
    parser.add_argument(
        "--no-write", action="store_true", help="print only; do not write docs/benchmarks/"
    )
    args = parser.parse_args(argv)
    wanted = {_normalize_id(x) for x in args.only.split(",") if x.strip()}

    results: list[Result] = []
    failed_modules: list[str] = []
    started = time.perf_counter()
    for module_name in discover():
        if wanted and _row_id(module_name) not in wanted:
            continue
        print(f"running {module_name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"tools.bench.benchmarks.{module_name}")
            results.extend(r.decide() for r in module.run(quick=args.quick))
        except Exception:
            traceback.print_exc()
            failed_modules.append(module_name)
    print_table(results)
    print(
        f"\n{len(results)} rows in {time.perf_counter() - started:.1f} s on {os.cpu_count()} cores"
    )
    if failed_modules:
        print(f"benchmark modules that crashed: {', '.join(failed_modules)}", file=sys.stderr)
    if not args.no_write and results and not wanted:
        OUT.mkdir(parents=True, exist_ok=True)
        suffix = "-quick" if args.quick else ""
        payload = {
            "quick": args.quick,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d"),
            "results": [r.to_dict() for r in results],
        }
        (OUT / f"results{suffix}.json").write_text(json.dumps(payload, indent=2) + "\n")
        write_markdown(json.loads(json.dumps(payload)), OUT / f"results{suffix}.md")
        if write_chart(results, OUT / f"results{suffix}.png"):
            print(f"wrote {OUT / f'results{suffix}.png'}")
    return 1 if failed_modules else 0


if __name__ == "__main__":
    sys.exit(main())
