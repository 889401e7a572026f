#!/usr/bin/env bash
# Memory figures: the planner's predicted peak against the measured peak RSS (VmHWM) of a fresh JVM per run,
# and peak RSS across K at a fixed micro-batch (flat in K). Prints a markdown table.
#   bench/memory.sh            # all cases below
#   CASES="tiny:8:1 small:1:8" bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh
[ "${NO_BUILD:-}" = 1 ] || mvn -B -q -ntp -DskipTests package -pl bench -am >/dev/null
cases=${CASES:-"tiny:1:1 tiny:8:1 tiny:32:1 small:1:1 small:8:1 small:32:1 gpt2:1:1 gpt2:2:1 small:1:8 small:1:32"}
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| model | B | K | predicted peak MB | measured peak RSS MB | measured / predicted | arena MB (planned = measured) | s/step |"
echo "|---|---|---|---|---|---|---|---|"
for c in $cases; do
  IFS=: read -r model b k <<<"$c"
  json=$(java "${ACCRUE_JVM_OPTS[@]}" -Xmx20g \
      -cp bench/target/classes:core/target/classes io.accrue.bench.GptBench \
      --config "$model" --micro-batch "$b" --accum "$k" --steps 1 --warmup 0 --threads 2 2>/dev/null | tail -1)
  python3 - "$json" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
same = "yes" if abs(d["arena_high_water_mb"] - d["predicted_arena_mb"]) < 0.05 else "NO"
print(f'| {d["config"]} | {d["B"]} | {d["K"]} | {d["predicted_peak_mb"]:.0f} | {d["peak_rss_mb"]:.0f} | '
      f'{d["peak_rss_mb"] / d["predicted_peak_mb"]:.3f} | {d["arena_high_water_mb"]:.1f} ({same}) | '
      f'{d["sec_per_optimizer_step"]:.2f} |')
PY
done
echo
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
