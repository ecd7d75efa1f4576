#!/usr/bin/env python3
"""Redis stream scale-out benchmark: alerts/s of 1, 2 and 3 slipway
processes reading one stream as a consumer group into files.

Starts its own redis-server on a free loopback port and loads generated
Slips alerts into a stream with redis-cli --pipe. For each consumer count
it starts that many `slipway run` processes in a new group, so each run
reads the whole stream, and measures the time until every alert is written
and the group has nothing pending. The load average is printed before and
after each run, because other work on the machine changes the numbers.

Usage: bench/redis_stream_bench.py [--alerts N] [--consumers 1,2,3] [--repeat 3] [--slipway PATH]
                                   [--work-dir DIR]
"""
import argparse
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
GENERATOR = ROOT.parent / "shared" / "tools" / "gen_bench_alerts.py"
STREAM = "bench-alerts"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_cli(port, *arguments):
    result = subprocess.run(["redis-cli", "-p", str(port), *arguments], check=True, capture_output=True, text=True)
    return result.stdout.strip()


def start_redis(work):
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(work), "--loglevel", "warning"],
                               stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis_cli(port, "PING") == "PONG":
                return process, port
        except subprocess.CalledProcessError:
            pass
        time.sleep(0.05)
    process.kill()
    sys.exit("redis-server did not answer PING within 10 s")


def resp_command(*arguments):
    parts = [b"*%d\r\n" % len(arguments)]
    for argument in arguments:
        parts.append(b"$%d\r\n%s\r\n" % (len(argument), argument))
    return b"".join(parts)


def load_stream(port, alerts_path, work):
    """Writes every line of alerts_path as one entry; returns (entries, bytes of the lines)."""
    commands_path = work / "xadd.resp"
    entries = 0
    payload_bytes = 0
    with open(alerts_path, "rb") as alerts, open(commands_path, "wb") as commands:
        for line in alerts:
            line = line.rstrip(b"\n")
            commands.write(resp_command(b"XADD", STREAM.encode(), b"*", b"event", line))
            entries += 1
            payload_bytes += len(line) + 1
    with open(commands_path, "rb") as commands:
        subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=commands, check=True,
                       stdout=subprocess.DEVNULL)
    commands_path.unlink()
    return entries, payload_bytes


def pipeline_file(work, name, port, group, output_path):
    path = work / f"{name}.yaml"
    path.write_text(f"""
data_dir: {work / ('var-' + name)}
inputs:
  alerts:
    type: redis
    mode: stream
    url: redis://127.0.0.1:{port}/0
    stream: {STREAM}
    group: {group}
    consumer: {name}
    batch_max_events: 1024
    block_ms: 100
outputs:
  archive:
    type: file
    from: [alerts]
    path: {output_path}
    fsync: never
""")
    return path


def run_consumers(slipway, work, port, count, expected_bytes):
    group = f"bench-{count}-{time.time_ns()}"
    redis_cli(port, "XGROUP", "CREATE", STREAM, group, "0")
    outputs = [work / f"out-{count}-{index}.json" for index in range(count)]
    for output in outputs:
        output.unlink(missing_ok=True)
    for index in range(count):
        shutil.rmtree(work / f"var-c{index}", ignore_errors=True)
    configs = [pipeline_file(work, f"c{index}", port, group, outputs[index]) for index in range(count)]

    start = time.perf_counter()
    processes = [subprocess.Popen([slipway, "--log-level", "warn", "run", config]) for config in configs]
    while sum(output.stat().st_size if output.exists() else 0 for output in outputs) < expected_bytes:
        if any(process.poll() is not None for process in processes):
            sys.exit("a slipway process ended early")
        time.sleep(0.02)
    seconds = time.perf_counter() - start

    # Entries are acknowledged after they are written, so wait for the last XACK.
    while redis_cli(port, "XPENDING", STREAM, group).splitlines()[0] != "0":
        time.sleep(0.02)
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=60)
    shares = [count_lines(output) for output in outputs]
    for output in outputs:
        output.unlink()
    redis_cli(port, "XGROUP", "DESTROY", STREAM, group)
    return seconds, shares


def count_lines(path):
    lines = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=200_000)
    parser.add_argument("--consumers", default="1,2,3")
    parser.add_argument("--repeat", type=int, default=3, help="runs per consumer count; the median is reported")
    parser.add_argument("--slipway", type=pathlib.Path, default=ROOT / "build" / "slipway",
                        help="the slipway binary; measure a Release build")
    parser.add_argument("--work-dir", type=pathlib.Path, default=ROOT / "build" / "bench-work" / "redis")
    options = parser.parse_args()
    if not GENERATOR.exists():
        sys.exit(f"the alert generator {GENERATOR} is missing; it comes with the shared tree beside the repository")
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        sys.exit("redis-server and redis-cli are needed; install the Debian package redis-server")

    work = options.work_dir
    work.mkdir(parents=True, exist_ok=True)
    alerts_path = work / f"alerts-{options.alerts}.json"
    if not alerts_path.exists():
        subprocess.run([sys.executable, str(GENERATOR), "-n", str(options.alerts), "--seed", "42",
                        "-o", str(alerts_path)], check=True)

    redis, port = start_redis(work)
    try:
        entries, expected_bytes = load_stream(port, alerts_path, work)
        print(f"stream of {entries} alerts, {expected_bytes / 1e6:.0f} MB; redis-server {redis_cli(port, 'INFO', 'server').split('redis_version:')[1].split()[0]}")
        print(f"median of {options.repeat} runs per row")
        print(f"{'consumers':>9} {'alerts/s':>10} {'min..max alerts/s':>20} {'per consumer (median run)':>28} "
              f"{'load before/after':>18}")
        for count in (int(text) for text in options.consumers.split(",")):
            load_before = os.getloadavg()[0]
            runs = []
            for _ in range(options.repeat):
                seconds, shares = run_consumers(options.slipway, work, port, count, expected_bytes)
                if sum(shares) != entries:
                    sys.exit(f"{count} consumers wrote {sum(shares)} alerts, expected {entries}")
                runs.append((entries / seconds, shares))
            runs.sort()
            rate, shares = runs[len(runs) // 2]
            load_after = os.getloadavg()[0]
            spread = f"{runs[0][0]:,.0f}..{runs[-1][0]:,.0f}"
            print(f"{count:>9} {rate:>10,.0f} {spread:>20} {'/'.join(map(str, shares)):>28} "
                  f"{load_before:>8.1f}/{load_after:<8.1f}", flush=True)
    finally:
        redis.send_signal(signal.SIGTERM)
        redis.wait(timeout=30)


if __name__ == "__main__":
    main()
