#!/usr/bin/env bash
# spark/cluster-bench.sh — Accrue's Spark replicas on a real standalone cluster on this machine, against one process.
#
# Starts a Spark master and WORKERS worker JVMs (1 core each) from the Spark jars the build already resolved, runs
# STEPS steps of MODEL at B=1, K, context T on them with `SparkTrain` (submitted through Spark's SparkSubmit, as
# spark-submit does), runs the same steps as one `accrue train` process with all cores, and prints one JSON line:
#   workers, params (gradient floats all-reduced), sync_us_per_param (the ring all-reduce, all replicas arrived;
#   sync_cpu_us_per_param: the CPU time its threads took), wait_s (waiting for the slowest replica), step_s,
#   single_process_step_s, speedup (measured here), and projected_speedup: single_step / (single_step/W
#   + max(measured sync, ring transfer at NET_GBIT)) for W machines like this one.
# Figures are of the last step (the first compiles). Settings by environment: MODEL=gpt2 K=32 T=1024 STEPS=2
# WORKERS=2 NET_GBIT=10 WORK=spark/target/cluster-bench PORT=7177.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/jdk.sh
MODEL=${MODEL:-gpt2} K=${K:-32} T=${T:-1024} STEPS=${STEPS:-2} WORKERS=${WORKERS:-2} NET_GBIT=${NET_GBIT:-10}
WORK=${WORK:-$root/spark/target/cluster-bench} PORT=${PORT:-7177}
rm -rf "$WORK" && mkdir -p "$WORK"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "cluster-bench: building accrue.jar and accrue-spark.jar" >&2
mvn -B -q -ntp -o package dependency:build-classpath -pl core,bench,cli,spark -DskipTests \
  -Dmdep.outputFile="$WORK/classpath.txt" >"$WORK/build.log" 2>&1 # the last module's, spark's, stays
# A Spark home for the master, workers and the executors they launch: a RELEASE marker and the build's Spark jars.
export SPARK_HOME="$WORK/spark-home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
mkdir -p "$SPARK_HOME/jars" && echo "Spark (jars of the accrue-spark build)" >"$SPARK_HOME/RELEASE"
tr ':' '\n' <"$WORK/classpath.txt" | while read -r jar; do ln -sf "$jar" "$SPARK_HOME/jars/"; done
# The flags Spark's launcher adds on JDK 17+ (spark/pom.xml, spark.jvm.flags) and the Vector API.
read -r -a flags <<<"$(sed -n '/<spark.jvm.flags>/,/<\/spark.jvm.flags>/p' spark/pom.xml \
  | sed 's/<[^>]*>//g' | tr '\n' ' ') --add-modules jdk.incubator.vector"
spark_cp="$SPARK_HOME/jars/*"

echo "cluster-bench: preparing GPT-2 tokens and the run's spec" >&2
./accrue prepare --data README.md LAYOUT.md core/src/main --tokenizer gpt2 --val-fraction 0.1 \
  --out "$WORK/data" >"$WORK/prepare.log" 2>&1
train=(train --model "$MODEL" --data "$WORK/data" --context "$T" --micro-batch 1 --accum "$K" --steps "$STEPS"
  --eval-tokens "$T" --checkpoint-minutes 0)
./accrue "${train[@]}" --print-spec >"$WORK/run.json"
heap_mib="$(java --add-modules jdk.incubator.vector -Xmx1g -jar cli/target/accrue.jar "${train[@]}" --heap-only \
  2>/dev/null)"

pids=()
stop_cluster() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop_cluster EXIT
echo "cluster-bench: master and $WORKERS workers (1 core, ${heap_mib} MiB executors each)" >&2
java "${flags[@]}" -Xmx512m -cp "$spark_cp" org.apache.spark.deploy.master.Master --host 127.0.0.1 \
  --port "$PORT" --webui-port 0 >"$WORK/master.log" 2>&1 &
pids+=($!)
sleep 5
for i in $(seq 1 "$WORKERS"); do
  java "${flags[@]}" -Xmx512m -cp "$spark_cp" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 \
    --memory "$((heap_mib + 512))m" --webui-port 0 --work-dir "$WORK/worker-$i" "spark://127.0.0.1:$PORT" \
    >"$WORK/worker-$i.log" 2>&1 &
  pids+=($!)
done
sleep 8

echo "cluster-bench: $STEPS steps of $MODEL, K=$K T=$T, on $WORKERS replicas" >&2
java "${flags[@]}" -Xmx2g -cp "$spark_cp:spark/target/accrue-spark.jar" org.apache.spark.deploy.SparkSubmit \
  --master "spark://127.0.0.1:$PORT" --class io.accrue.spark.SparkTrain --total-executor-cores "$WORKERS" \
  --executor-cores 1 --executor-memory "${heap_mib}m" --conf spark.driver.host=127.0.0.1 \
  --conf spark.executor.extraJavaOptions="--add-modules=jdk.incubator.vector -Xmn32m" \
  spark/target/accrue-spark.jar train --spec "$WORK/run.json" --workers "$WORKERS" --out "$WORK/cluster" \
  >"$WORK/cluster.log" 2>&1
stop_cluster

echo "cluster-bench: the same steps in one process ($(nproc) threads)" >&2
./accrue "${train[@]}" --threads "$(nproc)" --out "$WORK/single" --progress plain >"$WORK/single.log" 2>&1

python3 - "$WORK" "$WORKERS" "$NET_GBIT" "$MODEL" "$K" "$T" "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, sys
work, w, gbit, model, k, t, load0, load1 = sys.argv[1:]
w, gbit = int(w), float(gbit)
last = lambda run: json.loads(open(f"{work}/{run}/metrics.jsonl").read().splitlines()[-1])
cluster, single = last("cluster"), last("single")
params = json.load(open(f"{work}/cluster/results.json"))["grads_bytes"] // 4
sync_s = cluster["sync_ms"] / 1e3
def projected(n):  # n machines like this one: 1/n of the window each, then the ring at NET_GBIT (or as measured)
    ring = 2 * (n - 1) / n * 4 * params * 8 / (gbit * 1e9)
    return single["seconds"] / (single["seconds"] / n + max(sync_s, ring))
print(json.dumps({"model": model, "k": int(k), "context": int(t), "workers": w, "params": params,
    "sync_us_per_param": round(sync_s * 1e6 / params, 5), "sync_s": round(sync_s, 3),
    "sync_cpu_us_per_param": round(cluster["sync_cpu_ms"] * 1e3 / params, 5),
    "wait_s": round(cluster["wait_ms"] / 1e3, 3), "step_s": round(cluster["seconds"], 3),
    "single_process_step_s": round(single["seconds"], 3),
    "speedup": round(single["seconds"] / cluster["seconds"], 3), "net_gbit_s": gbit,
    "projected_speedup": {n: round(projected(n), 2) for n in (2, 4, 8)},
    "load_avg_start": load0, "load_avg_end": load1}))
PY
