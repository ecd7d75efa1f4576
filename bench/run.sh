#!/usr/bin/env bash
# Runs the benchmarks: whole pipelines over 1M generated alerts against a
# plain copy of the same file, a Redis stream read by 1, 2 and 3
# consumer processes, then the micro-benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 bench/pipeline_bench.py "$@"
python3 bench/redis_stream_bench.py
build/bench/slipway_bench_http build/slipway build/bench-work/alerts-1000000.json build/bench-work/http
build/bench/slipway_bench_logstash build/slipway build/bench-work/alerts-1000000.json build/bench-work/logstash
for benchmark in build/bench/slipway_bench_*; do
  case "$benchmark" in
    */slipway_bench_floor | */slipway_bench_http | */slipway_bench_logstash) ;;
    *) "$benchmark" --benchmark_min_time=0.5 ;;
  esac
done
