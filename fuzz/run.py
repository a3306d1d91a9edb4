"""Run every harness (or some) for a bounded time; report executions and findings.

    python fuzz/run.py --seconds 60 [--out DIR] [TARGET ...]

Each harness runs in its own process under libFuzzer with a per-input timeout and an
RSS limit (hangs and runaway memory are findings too), starting from the seeds in
``fuzz/seeds.py``. Exit status 1 when anything was found; the inputs are in
``DIR/findings``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from seeds import TARGETS, write_seeds  # noqa: E402

# Per input: a conversion of a seed-sized picture takes milliseconds.
TIMEOUT_SECONDS = 10
RSS_LIMIT_MB = 2560


@dataclass
class Outcome:
    target: str
    executions: int
    findings: list[Path]
    returncode: int
    log_tail: str


def run_target(target: str, seconds: int, work: Path) -> Outcome:
    corpus = work / "corpus" / target
    findings = work / "findings"
    findings.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        str(HERE / f"fuzz_{target}.py"),
        f"-max_total_time={seconds}",
        f"-timeout={TIMEOUT_SECONDS}",
        f"-rss_limit_mb={RSS_LIMIT_MB}",
        f"-artifact_prefix={findings}/{target}-",
        "-print_final_stats=1",
        str(corpus),
    ]
    env = dict(os.environ)
    src = str(HERE.parent / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 120)
    log = done.stdout + done.stderr
    counts = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log) or re.findall(r"#(\d+)\s", log)
    found = sorted(findings.glob(f"{target}-*"))
    return Outcome(target, int(counts[-1]) if counts else 0, found, done.returncode, log[-3000:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", default=list(TARGETS), help=f"some of: {', '.join(TARGETS)}")
    parser.add_argument("--seconds", type=int, default=60, help="per target")
    parser.add_argument("--out", type=Path, help="keep the corpora and findings here")
    args = parser.parse_args(argv)
    work = args.out or Path(tempfile.mkdtemp(prefix="dicomify-fuzz-"))
    write_seeds(work / "corpus")
    failed = False
    for target in args.targets:
        outcome = run_target(target, args.seconds, work)
        status = "ok" if not outcome.findings and outcome.returncode == 0 else "FOUND"
        failed |= status != "ok"
        print(f"{target}: {outcome.executions} executions in {args.seconds} s, {len(outcome.findings)} finding(s) [{status}]")
        for path in outcome.findings:
            print(f"  {path}")
        if status != "ok" and not outcome.findings:
            print(outcome.log_tail)
    print(f"corpora and findings in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
