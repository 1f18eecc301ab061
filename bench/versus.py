"""One benchmark, this tree against an earlier commit, side by side in one run.

    python -m bench.versus --base REF [--rounds N] [--json] -- bench.engine --skip-postgres --events 10000

Checks REF out into a temporary directory (``git worktree``, removed afterwards), then runs the
benchmark module in the old tree and in this one in turn — old, new, old, new … — so both see the
same machine, whatever else it is doing. Every figure both runs print in their ``--json`` line is
compared: the median of each side and the ratio new / old (above 1: this tree has more of it;
for latencies, lower is better).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import console, print_results

REPO = Path(__file__).resolve().parents[1]


def _numbers(data: Any, prefix: str = "") -> dict[str, float]:
    """Every number in a JSON value, by its dotted path."""
    out: dict[str, float] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(_numbers(value, f"{prefix}{key}."))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out.update(_numbers(value, f"{prefix}{index}."))
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        out[prefix.rstrip(".")] = float(data)
    return out


def run(tree: Path, module: str, args: list[str]) -> dict[str, float]:
    """Run ``python -m module args --json`` in ``tree``; the numbers of its last line."""
    env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree}"}
    done = subprocess.run(
        [sys.executable, "-m", module, *args, "--json"], cwd=tree, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{module} failed in {tree}:\n{done.stderr[-2000:]}")
    last = [line for line in done.stdout.splitlines() if line.strip()][-1]
    return _numbers(json.loads(last))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the earlier commit (any git ref)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side, alternating (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    parser.add_argument(
        "benchmark", nargs=argparse.REMAINDER, help="-- MODULE [ARGS…], e.g. -- bench.engine --skip-postgres"
    )
    options = parser.parse_args()
    rest = [arg for arg in options.benchmark if arg != "--"]
    if not rest:
        parser.error("name the benchmark module after --, e.g. -- bench.orders --skip-postgres")
    module, args = rest[0], rest[1:]
    with tempfile.TemporaryDirectory(prefix="storeops-base-") as folder:
        old_tree = Path(folder) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(old_tree), options.base],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        # Older benchmarks start their workers with PYTHONPATH set to the checkout's root only: a
        # link there makes them import the old tree's storeops rather than the installed one.
        (old_tree / "storeops").symlink_to(old_tree / "src" / "storeops")
        try:
            old: list[dict[str, float]] = []
            new: list[dict[str, float]] = []
            for round_ in range(options.rounds):
                console.print(f"round {round_ + 1} of {options.rounds}: {options.base} …")
                old.append(run(old_tree, module, args))
                console.print(f"round {round_ + 1} of {options.rounds}: this tree …")
                new.append(run(REPO, module, args))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old_tree)], cwd=REPO, check=False)
    keys = sorted(set.intersection(*(set(r) for r in old + new)))
    rows = []
    for key in keys:
        before = statistics.median(r[key] for r in old)
        after = statistics.median(r[key] for r in new)
        rows.append(
            {
                "figure": key,
                "base": round(before, 3),
                "new": round(after, 3),
                "ratio": round(after / before, 3) if before else None,
            }
        )
    print_results(
        f"{module} {' '.join(args)}: this tree against {options.base}, median of {options.rounds} alternating runs",
        ["figure", "base", "new", "ratio"],
        rows,
        {"base": options.base, "module": module, "args": args, "rounds": options.rounds},
        options.json,
    )


if __name__ == "__main__":
    main()
