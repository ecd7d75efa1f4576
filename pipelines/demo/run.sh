#!/usr/bin/env bash
# Runs the demo pipeline on the bundled alerts and shows where the output went.
set -euo pipefail
cd "$(dirname "$0")/../.."

export DEMO_DIR="${DEMO_DIR:-demo}"
rm -rf "$DEMO_DIR"
build/slipway --log-level warn run pipelines/demo/demo.yaml

input_lines=$(cat pipelines/demo/data/*.json | wc -l)
idea_lines=$(wc -l < "$DEMO_DIR/out/alerts.idea.json")
echo
echo "Read $input_lines Slips alerts (both alerts.json generations) and wrote:"
echo "  $DEMO_DIR/out/alerts.idea.json  $idea_lines IDEA0 records, one JSON object per line"
echo "  $DEMO_DIR/out/alerts.log        the same alerts as alerts.log lines"
if [ -s "$DEMO_DIR/var/dead_letter.json" ]; then
  echo "  $DEMO_DIR/var/dead_letter.json  $(wc -l < "$DEMO_DIR/var/dead_letter.json") records that could not be normalized"
fi
echo
echo "First IDEA0 record:"
head -n 1 "$DEMO_DIR/out/alerts.idea.json"
echo
echo "Last alerts.log line:"
tail -n 1 "$DEMO_DIR/out/alerts.log"
