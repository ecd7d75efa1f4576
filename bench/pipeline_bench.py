#!/usr/bin/env python3
"""Whole-pipeline benchmarks: alerts/s, MB/s and peak RSS of slipway over
generated Slips alerts, each with its ratio to a plain read+write copy of the
same file measured in the same run.

Usage: bench/pipeline_bench.py [--alerts N] [--work-dir DIR] [--build-dir DIR] [--only TEXT]
"""
import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
GENERATOR = ROOT.parent / "shared" / "tools" / "gen_bench_alerts.py"

# Each pipeline: its filters section, and the component the output reads from.
PIPELINES = {
    "file -> file": ("", "alerts"),
    "file -> idea_normalize -> file": ("""
filters:
  idea:
    type: idea_normalize
    from: [alerts]
""", "idea"),
    "file -> idea_normalize -> stix -> file": ("""
filters:
  idea:
    type: idea_normalize
    from: [alerts]
  stix:
    type: stix
    from: [idea]
""", "stix"),
}


def run_measured(command):
    """Runs a command; returns (seconds, peak RSS in MiB, CPU seconds)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"benchmark command failed: {' '.join(map(str, command))}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def count_lines(path):
    lines = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


def pipeline_file(work, name, alerts_path, output_path):
    filters, reader = PIPELINES[name]
    text = f"""
data_dir: {work / 'var'}
inputs:
  alerts:
    type: file
    paths: [{alerts_path}]
    exit_at_eof: true
{filters}
outputs:
  archive:
    type: file
    from: [{reader}]
    path: {output_path}
    fsync: never
"""
    path = work / "pipeline.yaml"
    path.write_text(text)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--work-dir", type=pathlib.Path, default=ROOT / "build" / "bench-work")
    parser.add_argument("--build-dir", type=pathlib.Path, default=ROOT / "build",
                        help="the Release build holding slipway and bench/slipway_bench_floor")
    parser.add_argument("--only", action="append", default=[],
                        help="run only the pipelines whose name contains this text; may be given more than once")
    options = parser.parse_args()
    slipway = options.build_dir / "slipway"
    floor = options.build_dir / "bench" / "slipway_bench_floor"

    if not GENERATOR.exists():
        sys.exit(f"the alert generator {GENERATOR} is missing; it comes with the shared tree beside the repository")
    work = options.work_dir
    work.mkdir(parents=True, exist_ok=True)
    alerts_path = work / f"alerts-{options.alerts}.json"
    if not alerts_path.exists():
        print(f"Generating {options.alerts} alerts into {alerts_path} ...", flush=True)
        subprocess.run([sys.executable, str(GENERATOR), "-n", str(options.alerts), "--seed", "42",
                        "-o", str(alerts_path)], check=True)
    size_mb = alerts_path.stat().st_size / 1e6
    output_path = work / "out.json"

    # Read the input once so every measurement starts from the page cache,
    # then take the faster of two floor runs.
    count_lines(alerts_path)
    floor_seconds, floor_rss, floor_cpu = min(run_measured([floor, alerts_path, output_path]) for _ in range(2))
    # CPU time per alert says more than wall time on a machine that other
    # work shares, because it does not count the time spent waiting for a core.
    print(f"{'pipeline':40} {'alerts/s':>12} {'MB/s':>8} {'peak RSS':>10} {'time vs floor':>14} {'CPU us/alert':>13}")
    print(f"{'floor: read+write copy':40} {options.alerts / floor_seconds:12,.0f} {size_mb / floor_seconds:8.0f} "
          f"{floor_rss:8.1f}MB {1.0:13.2f}x {floor_cpu * 1e6 / options.alerts:13.2f}")

    names = [name for name in PIPELINES if not options.only or any(part in name for part in options.only)]
    for name in names:
        shutil.rmtree(work / "var", ignore_errors=True)
        output_path.unlink(missing_ok=True)
        config = pipeline_file(work, name, alerts_path, output_path)
        seconds, rss, cpu = run_measured([slipway, "--log-level", "warn", "run", config])
        written = count_lines(output_path)
        if written != options.alerts:
            sys.exit(f"{name}: wrote {written} records, expected {options.alerts}")
        print(f"{name:40} {options.alerts / seconds:12,.0f} {size_mb / seconds:8.0f} {rss:8.1f}MB "
              f"{seconds / floor_seconds:13.2f}x {cpu * 1e6 / options.alerts:13.2f}", flush=True)
    output_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
