#!/usr/bin/env bash
# JMH micro-benchmarks of the kernels (io.accrue.bench.*Jmh): builds the bench module (and core), then runs
# org.openjdk.jmh.Main with the given JMH arguments. The forked JVMs get --add-modules jdk.incubator.vector from
# the benchmarks' @Fork(jvmArgsAppend) (and inherit the host JVM's arguments, which carry it too).
#
#   bench/jmh.sh                                  # every benchmark, defaults: 1 fork, 5×1 s warm-up, 5×1 s (~10 min)
#   bench/jmh.sh Gemm -f 1 -wi 2 -i 3             # a quick run of the GEMM benchmarks
#   bench/jmh.sh Gemm -p shape=2048:384:1152 -p threads=1 -p form=forward
#   bench/jmh.sh -l                               # list the benchmarks;  -lp: with their parameters
#   NO_BUILD=1 bench/jmh.sh ...                   # skip the maven package step
#   bench/jmh.sh -h                               # this text, then JMH's own options
#
# Benchmarks: GemmJmh (Gemm.multiply, forward/dx/dw, 1 and 2 threads; score calls/s, secondary `gflop` =
# GFLOP/s), AttentionJmh (AttentionOp forward, forward+backward via the Tape), LayerNormJmh, GeluJmh,
# CrossEntropyJmh (forward, backward), AdamWJmh (AdamW.step over GPT small's parameters), ExpJmh (deterministic
# exp), ResidualJmh (residual add, bias-gradient column sums). Scores are µs/op (average time) unless stated. Arguments are JMH's: a regex selects benchmarks,
# -f forks, -wi/-w warm-up iterations/time, -i/-r measured iterations/time, -p name=v1,v2 parameters,
# -rf json -rff file.json results to a file.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  echo
  echo "JMH options (org.openjdk.jmh.Main -h):"
fi

. scripts/jdk.sh
if [ -z "${NO_BUILD:-}" ] || [ ! -f bench/target/classpath.txt ]; then
  mvn -B -q -ntp -DskipTests package -pl bench -am
fi
exec java --add-modules jdk.incubator.vector -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  org.openjdk.jmh.Main "$@"
