#!/usr/bin/env python3
"""Whole-pipeline benchmarks: events/s, MB/s and peak RSS of slipway over
generated Slips alerts and over a Zeek conn log, each with its ratio to a
plain read+write copy of the same file measured in the same run.

Usage: bench/pipeline_bench.py [--alerts N] [--zeek-rows N] [--build-dir DIR] [--work-dir DIR] [--only TEXT]
The Zeek conn log repeats the rows of the shared hand-labeled conn log
fixture under its header until it has N rows.
"""
import argparse
import re
import os
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
GENERATOR = ROOT.parent / "shared" / "tools" / "gen_bench_alerts.py"
ZEEK_CONN_FIXTURE = ROOT.parent / "shared" / "fixtures" / "zeek" / "conn-ctu-sme-11.log.labeled"
ZEEK_COLUMNS = ("ts, uid, id.orig_h, id.orig_p, id.resp_h, id.resp_p, proto, service, duration, orig_bytes, "
                "resp_bytes, conn_state, local_orig, local_resp, missed_bytes, history, orig_pkts, orig_ip_bytes, "
                "resp_pkts, resp_ip_bytes, tunnel_parents, label, detailedlabel, aid")

# Alert pipelines: (filters, settings added to the file output). The output
# reads from the last filter listed.
PIPELINES = {
    "file -> file": ("", ""),
    "file -> idea_normalize -> file": ("""
filters:
  idea:
    type: idea_normalize
    from: [alerts]
""", ""),
    "file -> route + modify -> file": ("""
filters:
  router:
    type: route
    from: [alerts]
    routes:
      incidents: {field: Status, equals: Incident}
      all: {field: ID, exists: true}
  tag:
    type: modify
    from: [router.all]
    set: {sensor: lab-1}
""", ""),
    "file -> idea_normalize -> stix -> file": ("""
filters:
  idea:
    type: idea_normalize
    from: [alerts]
  stix:
    type: stix
    from: [idea]
""", ""),
}

# Zeek pipelines: (filters, settings added to the file output). Their
# output has one header row more than the log has rows.
ZEEK_PIPELINES = {
    "zeek conn -> aid -> tsv": ("""
filters:
  aid:
    type: aid
    from: [alerts]
    field_names: zeek
    slips_compatible: true
""", f"""
    format: tsv
    columns: [{ZEEK_COLUMNS}]
"""),
}


def run_measured(command):
    """Runs a command; returns (wall seconds, peak RSS in MiB, CPU seconds of all its threads)."""
    # Write back the files earlier runs left dirty first, so that the kernel's
    # writeback does not compete with the measured run.
    os.sync()
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


def pipeline_file(work, filters, input_path, output_path, input_settings="", output_settings=""):
    """Writes a pipeline reading `input_path` as input "alerts" through the
    filters in `filters`, if any, into `output_path`, which reads the last one."""
    filter_ids = re.findall(r"^  (\w+):$", filters, re.MULTILINE)
    reader = filter_ids[-1] if filter_ids else "alerts"
    text = f"""
data_dir: {work / 'var'}
inputs:
  alerts:
    type: file
    paths: [{input_path}]
    exit_at_eof: true{input_settings}
{filters}
outputs:
  archive:
    type: file
    from: [{reader}]
    path: {output_path}
    fsync: never{output_settings}
"""
    path = work / "pipeline.yaml"
    path.write_text(text)
    return path


def make_zeek_log(path, rows):
    """Writes a Zeek conn log: the fixture's header, then its rows repeated to `rows` rows."""
    lines = ZEEK_CONN_FIXTURE.read_text().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    records = [line for line in lines if not line.startswith("#")]
    with open(path, "w") as log:
        log.writelines(header)
        for start in range(0, rows, len(records)):
            log.writelines(records[:min(len(records), rows - start)])


def print_row(name, count, size_mb, measured, floor_seconds):
    seconds, rss, cpu_seconds = measured
    print(f"{name:34} {count / seconds:12,.0f} {size_mb / seconds:8.0f} {rss:8.1f}MB "
          f"{seconds / floor_seconds:13.2f}x {cpu_seconds / count * 1e6:10.2f}", flush=True)


def run_suite(work, build, label, input_path, count, pipelines):
    """Measures the floor over `input_path`, then each pipeline; `pipelines`
    maps names to (pipeline text builder, expected output lines)."""
    size_mb = input_path.stat().st_size / 1e6
    output_path = work / "out"
    # Read the input once so every measurement starts from the page cache,
    # then take the faster of two floor runs.
    count_lines(input_path)
    floor = min(run_measured([build / "bench" / "slipway_bench_floor", input_path, output_path]) for _ in range(2))
    # CPU time counts every thread, so under load from other programs it
    # still shows the work per event when wall time does not.
    print(f"{'pipeline':34} {label + '/s':>12} {'MB/s':>8} {'peak RSS':>10} {'time vs floor':>14} "
          f"{'CPU µs/' + label[:-1]:>10}")
    print_row("floor: read+write copy", count, size_mb, floor, floor[0])

    for name, (make_pipeline, expected_lines) in pipelines.items():
        shutil.rmtree(work / "var", ignore_errors=True)
        output_path.unlink(missing_ok=True)
        config = make_pipeline(output_path)
        measured = run_measured([build / "slipway", "--log-level", "warn", "run", config])
        written = count_lines(output_path)
        if written != expected_lines:
            sys.exit(f"{name}: wrote {written} lines, expected {expected_lines}")
        print_row(name, count, size_mb, measured, floor[0])
    output_path.unlink(missing_ok=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1_000_000, help="generated alerts; 0 skips the alert pipelines")
    parser.add_argument("--zeek-rows", type=int, default=2_000_000,
                        help="rows of the Zeek conn log; 0 skips the Zeek pipelines")
    parser.add_argument("--build-dir", type=pathlib.Path, default=ROOT / "build",
                        help="build directory containing slipway and bench/slipway_bench_floor")
    parser.add_argument("--work-dir", type=pathlib.Path, default=ROOT / "build" / "bench-work")
    parser.add_argument("--only", action="append", default=[],
                        help="run only the pipelines whose name contains this text; may be given more than once")
    options = parser.parse_args()
    work = options.work_dir
    work.mkdir(parents=True, exist_ok=True)

    if options.alerts > 0:
        if not GENERATOR.exists():
            sys.exit(f"the alert generator {GENERATOR} is missing; it comes with the shared tree beside the repository")
        alerts_path = work / f"alerts-{options.alerts}.json"
        if not alerts_path.exists():
            print(f"Generating {options.alerts} alerts into {alerts_path} ...", flush=True)
            subprocess.run([sys.executable, str(GENERATOR), "-n", str(options.alerts), "--seed", "42",
                            "-o", str(alerts_path)], check=True)
        pipelines = {
            name: ((lambda output, filters=filters, settings=settings: pipeline_file(
                work, filters, alerts_path, output, "", settings)), options.alerts)
            for name, (filters, settings) in PIPELINES.items()
            if not options.only or any(part in name for part in options.only)}
        run_suite(work, options.build_dir, "alerts", alerts_path, options.alerts, pipelines)

    if options.zeek_rows > 0:
        if not ZEEK_CONN_FIXTURE.exists():
            sys.exit(f"the Zeek conn log fixture {ZEEK_CONN_FIXTURE} is missing; it comes with the shared tree")
        zeek_path = work / f"zeek-conn-{options.zeek_rows}.log"
        if not zeek_path.exists():
            print(f"Writing {options.zeek_rows} Zeek conn rows into {zeek_path} ...", flush=True)
            make_zeek_log(zeek_path, options.zeek_rows)
        pipelines = {
            name: ((lambda output, filters=filters, settings=settings: pipeline_file(
                work, filters, zeek_path, output, "\n    codec: zeek", settings)), options.zeek_rows + 1)
            for name, (filters, settings) in ZEEK_PIPELINES.items()
            if not options.only or any(part in name for part in options.only)}
        run_suite(work, options.build_dir, "flows", zeek_path, options.zeek_rows, pipelines)


if __name__ == "__main__":
    main()
