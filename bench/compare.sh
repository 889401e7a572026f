#!/usr/bin/env bash
# Accrue against the PyTorch reference ($REF_DIR, default ../shared/bench beside this repository: the reference
# scripts are not part of it), side by side: builds once, measures this machine's FMA peak (io.accrue.bench.FmaPeak,
# 1 and THREADS threads), then for each
# config runs Accrue and PyTorch ALTERNATELY, REPS times, each run a fresh process (the order rotates every
# repetition so that neither side always runs first), and prints a markdown table of the medians over the runs.
# Without --quick it also times torch's GEMM (bench/gemm_forms.py) and Accrue's (GemmBench) on the linear layers of
# small, gpt2 and gpt2-medium in the three forms of a training step (forward, dX, dW), on 1 thread and on THREADS.
#
#   bench/compare.sh                                  # the default configs, 3 repetitions, PyTorch 2 (MKL)
#   bench/compare.sh --quick                          # fewer timed steps, 1 repetition, no GEMM probes
#   bench/compare.sh --ref pytorch-ref                # Debian's torch 1.13 with OpenBLAS instead (or REF=...)
#   bench/compare.sh --reps 5 gpt:tiny:8:4 mlp:64:1   # chosen configs
#   BASELINE_CP=/tmp/old/bench:/tmp/old/core bench/compare.sh   # adds an "Accrue baseline" column (before/after)
#   bench/compare.sh --table bench/target/compare/compare-X.jsonl  # the table of earlier (or interrupted) runs
#
# A config is gpt:NAME:B:K (NAME = tiny|small|gpt2|gpt2-medium), mlp:B:K (MLP 784-1024-1024-10) or cnn:NAME:B:K
# (Fashion-MNIST, NAME = cnn|resnet: FashionMnistBench against cnn_bench.py, run by $TORCH_PYTHON, default
# ~/.cache/accrue-torch2/bin/python, i.e. PyTorch 2.13; both train 300 steps, 100 for resnet, and evaluate on the
# first 1,000 test images); gpt:NAME:B:K:N runs Accrue with N micro-batches at once (GptBench --concurrent N;
# PyTorch and the baseline as without it).
# Environment: CONFIGS (space-separated configs), REPS, QUICK=1, NO_BUILD=1 (skip the maven build), THREADS (2),
# REF (the wrapper in $REF_DIR that runs the reference scripts: pytorch2-ref, torch 2 with MKL, by default;
# pytorch-ref for Debian's torch 1.13 with the OpenMP OpenBLAS),
# NO_PYTORCH=1 (Accrue and its baseline only: under heavy load PyTorch's OpenMP spinning makes its runs very long),
# BASELINE_CP (classpath of another Accrue build, run in the same alternation), RUN_TIMEOUT (seconds per run, 1200),
# OUT (directory for the raw JSON lines and the table; default bench/target/compare), OPENBLAS_CORETYPE (PyTorch's
# OpenBLAS kernels; set to SkylakeX or Haswell automatically when OpenBLAS does not know the CPU and would run SSE3).
# Every run prints one JSON line (GptBench/MlpBench and gpt_bench.py/mlp_bench.py share the field names); the
# table shows, per config, the median over the runs of each run's median step: tokens/s (GPT) or samples/s (MLP),
# the ratio Accrue/PyTorch, peak RSS and MFU (both sides against the FMA peak measured at the start), with the date,
# load average, the reference's torch version and BLAS at the start and the end, and the GEMM's fraction of torch's
# matmul rate. This machine's speed drifts by tens of percent: quote ratios from one table only.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh

DEFAULT_CONFIGS="gpt:tiny:1:8 gpt:tiny:8:4 gpt:small:8:4 gpt:small:1:32 gpt:small:32:1 mlp:64:1 mlp:8:8"
REPS=${REPS:-}
QUICK=${QUICK:-}
THREADS=${THREADS:-2}
RUN_TIMEOUT=${RUN_TIMEOUT:-1200}
REF_DIR=${REF_DIR:-../shared/bench}   # relative to the repository root (the script cd-s there)
TORCH_PYTHON=${TORCH_PYTHON:-$HOME/.cache/accrue-torch2/bin/python}
REF=${REF:-pytorch2-ref}
# linear layers as tokens:in:out: small's MLP at B = 8 (2,048 tokens), gpt2's attention input and MLP output, and
# gpt2-medium's MLP, at B = 1 (1,024 tokens)
GEMM_SHAPES="2048:384:1536 2048:1536:384 1024:768:2304 1024:3072:768 1024:1024:4096 1024:4096:1024"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --reps) REPS=$2; shift ;;
    --ref) REF=$2; shift ;;
    --no-build) NO_BUILD=1 ;;
    --table) TABLE_ONLY=$2; shift ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ ${#args[@]} -gt 0 ]; then CONFIGS="${args[*]}"; fi
CONFIGS=${CONFIGS:-$DEFAULT_CONFIGS}
if [ -z "$REPS" ]; then if [ -n "$QUICK" ]; then REPS=1; else REPS=3; fi; fi
[ -n "${NO_PYTORCH:-}" ] || [ -x "$REF_DIR/$REF" ] || { echo "compare.sh: no $REF_DIR/$REF; set REF_DIR to the directory of the PyTorch reference scripts (gpt_bench.py, mlp_bench.py, matmul_peak.py and the wrappers pytorch2-ref, pytorch-ref), REF to one of the wrappers, or NO_PYTORCH=1" >&2; exit 2; }

# The shared JSON parsing: medians per (config, variant) and the table (configs absent from RAW show "–").
make_table() { # RAW CONFIGS REPS START_DATE START_LOAD END_DATE END_LOAD BASELINE THREADS QUICK
python3 - "$@" <<'EOF'
import json, os, statistics, sys
raw, configs, reps, d0, l0, d1, l1, baseline, threads, quick = sys.argv[1:]
runs = {}
for line in open(raw):
    r = json.loads(line)
    if r["result"] is not None:
        runs.setdefault((r["spec"], r["variant"]), []).append(r["result"])

def med(spec, variant, key):
    vals = [x[key] for x in runs.get((spec, variant), []) if x.get(key) is not None]
    return statistics.median(vals) if vals else None

def rate(spec, variant):
    key = {"mlp": "samples_per_sec", "cnn": "images_per_s"}.get(spec.split(":")[0], "tokens_per_sec")
    return med(spec, variant, key)

def f(v, fmt):
    return "–" if v is None else format(v, fmt)

def one(variant):
    found = [x for (spec, v), xs in runs.items() if v == variant for x in xs]
    return found[0] if found else None

probe, reference = one("probe"), one("reference")
peak = probe["gflops"][-1] if probe else None

def mfu(spec, variant, gflops_key):
    """MFU against the FMA peak measured at the start; the run's own figure for tables without a probe."""
    if peak is None:
        return med(spec, variant, "mfu")
    g = med(spec, variant, gflops_key)
    if g is None:  # MlpBench writes the reference's name for it
        g = med(spec, variant, "achieved_gflops")
    return g / peak if g is not None else None

def n(spec, variant):
    return len(runs.get((spec, variant), []))

print(f"Accrue vs PyTorch ({threads} threads), {reps} alternating run(s) per config{' (quick)' if quick else ''}")
print()
print(f"- start: {d0}, load average {l0}")
print(f"- end: {d1}, load average {l1}")
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"- CPU: {cpu}")
if probe:
    print(f"- FMA peak measured at the start (io.accrue.bench.FmaPeak): {probe['gflops'][0]:.1f} GFLOP/s on 1 thread, "
          f"{probe['gflops'][-1]:.1f} on {probe['threads'][-1]}")
if reference:
    lib = f" ({reference['blas_library']})" if reference.get("blas_library") else ""
    core = os.environ.get("OPENBLAS_CORETYPE") if "openblas" in reference["blas"] else None
    print(f"- reference: torch {reference['torch']}, BLAS {reference['blas']}{lib}"
          + (f", OpenBLAS core {core}" if core else ""))
if baseline:
    print(f"- baseline: Accrue classes at `{baseline}`")
print()
head = "| config | B | K | Accrue tok/s | PyTorch tok/s | Accrue/PyTorch |"
sep = "|---|---|---|---|---|---|"
if baseline:
    head += " Accrue baseline | Accrue/baseline |"
    sep += "---|---|"
head += " Accrue peak RSS MB | PyTorch peak RSS MB | Accrue MFU | PyTorch MFU | Accrue heap MB/step | runs A/P |"
sep += "---|---|---|---|---|---|"
print(head)
print(sep)
for spec in configs.split():
    parts = spec.split(":")
    if parts[0] == "gpt":
        name, b, k = parts[1], parts[2], parts[3]
    elif parts[0] == "cnn":
        name, b, k = f"{parts[1]} (images/s)", parts[2], parts[3]
    else:
        name, b, k = "mlp (samples/s)", parts[1], parts[2]
    lanes = med(spec, "accrue", "concurrent_micro_batches")  # GptBench's given N, or what auto chose
    if lanes and lanes > 1:
        name += f" ({lanes:.0f} at once)"
    a, p = rate(spec, "accrue"), rate(spec, "pytorch")
    row = f"| {name} | {b} | {k} | {f(a, ',.0f')} | {f(p, ',.0f')} | {f(a / p if a and p else None, '.2f')} |"
    if baseline:
        o = rate(spec, "baseline")
        row += f" {f(o, ',.0f')} | {f(a / o if a and o else None, '.2f')} |"
    ma, mp = mfu(spec, "accrue", "gflops"), mfu(spec, "pytorch", "achieved_gflops")
    row += (f" {f(med(spec, 'accrue', 'peak_rss_mb'), '.0f')} | {f(med(spec, 'pytorch', 'peak_rss_mb'), '.0f')} |"
            f" {f(ma * 100 if ma is not None else None, '.1f')}{'%' if ma is not None else ''} |"
            f" {f(mp * 100 if mp is not None else None, '.1f')}{'%' if mp is not None else ''} |"
            f" {f(med(spec, 'accrue', 'allocated_mb_per_step'), '.1f')} |"
            f" {n(spec, 'accrue')}/{n(spec, 'pytorch')} |")
    print(row)
print()
print("Throughput: the median over the runs of each run's median optimizer step (tokens/s for GPT, samples/s for")
print("the MLP), or of each run's training images/s over all its steps (CNN); MFU against the FMA peak above;")
print("heap MB/step: the median over the runs of the least heap a timed step allocated (the step loop's own).")
print("Raw JSON lines: " + raw)
shapes = [spec for (spec, v) in runs if v == "gemm-torch"]
if shapes:
    print()
    print("GEMM of a linear layer with W (out, in) and N tokens, forward Y = X·Wᵀ, dX = dY·W, dW = dYᵀ·X: Accrue's "
          "(GemmBench) against torch's (bench/gemm_forms.py: torch.mm on transposed views, as nn.Linear), GFLOP/s")
    print()
    print("| form | threads | N | in | out | Accrue | torch | Accrue/torch | torch / FMA peak |")
    print("|---|---|---|---|---|---|---|---|---|")
    for spec in sorted(shapes, key=lambda s: (s.split(":")[0] != "forward", s.split(":")[0], int(s.split(":")[1]))):
        form, t_, tokens, n_in, n_out = spec.split(":")
        a, t = med(spec, "gemm-accrue", "gflops"), med(spec, "gemm-torch", "gflops")
        fma = probe["gflops"][0 if t_ == "1" else -1] if probe else None
        print(f"| {form} | {t_} | {tokens} | {n_in} | {n_out} | {f(a, '.1f')} | {f(t, '.1f')} |"
              f" {f(a / t if a and t else None, '.2f')} | {f(t / fma if t and fma else None, '.2f')} |")
EOF
}

if [ -n "${TABLE_ONLY:-}" ]; then
  specs=$(python3 -c 'import json,sys; s=[]; [s.append(r["spec"]) for r in map(json.loads, open(sys.argv[1])) if r["variant"] in ("accrue", "pytorch", "baseline") and r["spec"] not in s]; print(" ".join(s))' "$TABLE_ONLY")
  base=$(grep -q '"variant": "baseline"' "$TABLE_ONLY" && echo "${BASELINE_CP:-baseline}" || true)
  make_table "$TABLE_ONLY" "$specs" "$REPS" "(see file)" "-" "(see file)" "-" "$base" "$THREADS" "${QUICK:-}"
  exit 0
fi
if [ -z "${NO_BUILD:-}" ]; then
  mvn -B -q -ntp -DskipTests package -pl bench -am
fi
JAVA=("$JAVA_HOME/bin/java" "${ACCRUE_JVM_OPTS[@]}" -Xmx8g) # what ./accrue runs with
CP=bench/target/classes:core/target/classes

OUT=${OUT:-bench/target/compare}
mkdir -p "$OUT"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="$OUT/compare-$stamp.jsonl"
table="$OUT/compare-$stamp.md"
: > "$raw"

# Timed and warm-up steps per model (and per config for the big ones), shorter with --quick.
# Warm-up steps (untimed, both sides) until the JVM's JIT has compiled the step: on 2 cores its compiler threads
# take CPU from the timed run, and tiny and the MLP measured 2-3x slower after 3-10 warm-up steps than after 30-100
# (about a second of training), while PyTorch's speed did not change. tiny 1×8's steps (~25 ms) are so short that 30
# of them ended before C2 had compiled the step (~2 s into the run): its 8 timed steps ran anywhere between 30K and
# 46K tokens/s (2026-12-05), so it gets 100 warm-up and 20 timed steps. Small and gpt2 steps are long enough that
# one warm-up step is past it.
steps_for() { # kind name B K -> "STEPS WARMUP" (CNN: steps, and no separate warm-up)
  local kind=$1 name=$2 b=$3 k=$4
  if [ "$kind" = cnn ]; then
    local steps=300; [ "$name" = resnet ] && steps=100
    if [ -n "$QUICK" ]; then echo "$((steps / 3)) 0"; else echo "$steps 0"; fi
    return
  fi
  if [ "$kind" = mlp ]; then
    local work=$((b * k))
    if [ -n "$QUICK" ]; then echo "$((200 / work + 10)) $((1600 / work + 10))"; else echo "$((1600 / work + 20)) $((4000 / work + 20))"; fi
    return
  fi
  case "$name" in
    tiny) if [ $((b * k)) -le 8 ]; then
            if [ -n "$QUICK" ]; then echo "8 50"; else echo "20 100"; fi
          else
            if [ -n "$QUICK" ]; then echo "4 15"; else echo "8 30"; fi
          fi ;;
    small) if [ $((b * k)) -ge 16 ]; then
             if [ -n "$QUICK" ]; then echo "2 1"; else echo "3 1"; fi
           else
             if [ -n "$QUICK" ]; then echo "3 1"; else echo "5 2"; fi
           fi ;;
    *) echo "2 1" ;;
  esac
}

# run VARIANT SPEC COMMAND... : runs one fresh process and appends {"variant", "spec", "result"} to $raw.
run_one() {
  local variant=$1 spec=$2; shift 2
  local log; log=$(mktemp)
  local line=""
  if timeout "$RUN_TIMEOUT" "$@" > "$log" 2> "$log.err"; then
    line=$(grep '^{' "$log" | tail -n 1 || true)
  fi
  if [ -z "$line" ]; then
    echo "compare.sh: $variant $spec produced no result; stderr tail:" >&2
    tail -n 5 "$log.err" >&2 || true
    line=null
  fi
  printf '{"variant": "%s", "spec": "%s", "result": %s}\n' "$variant" "$spec" "$line" >> "$raw"
  rm -f "$log" "$log.err"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

# OpenBLAS 0.3.21 (Debian 12's, under torch 1.13) does not know CPUs newer than itself (e.g. Xeon Emerald Rapids)
# and falls back to its SSE3 "Prescott" kernels, a third of the machine's GEMM rate: comparing against that would
# flatter Accrue. Unless OPENBLAS_CORETYPE is set already, name the core the CPU can run.
blas_core() {
  python3 - "$1" <<'EOF2'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1]); lib.openblas_get_corename.restype = ctypes.c_char_p
print(lib.openblas_get_corename().decode())
EOF2
}
if [ -z "${NO_PYTORCH:-}" ] && [ "$REF" = pytorch-ref ] && [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  blas_lib=$(dpkg -L libopenblas0-openmp 2>/dev/null | grep '/libopenblas.so.0$' | head -1 || true)
  if [ -n "$blas_lib" ]; then
    case "$(blas_core "$blas_lib")" in
      Prescott|Katmai|Coppermine|Northwood|Core2|Penryn|Dunnington|Nehalem|Generic)
        if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
        elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi ;;
    esac
    echo "compare.sh: PyTorch's OpenBLAS runs its $(blas_core "$blas_lib") kernels" >&2
  fi
fi
start_date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
start_load=$(load)
echo "compare.sh: $start_date, load $start_load, configs: $CONFIGS, reps $REPS${QUICK:+ (quick)}" >&2

# The machine's FMA peak, which both sides' MFU is quoted against; the reference's torch and BLAS.
run_one probe fma "${JAVA[@]}" -cp "$CP" io.accrue.bench.FmaPeak --threads "$THREADS"
peak=$(tail -n 1 "$raw" | python3 -c 'import json, sys; r = json.load(sys.stdin)["result"]; print(r["gflops"][-1] if r else "")')
peak_args=()
[ -n "$peak" ] && peak_args=(--peak-gflops "$peak")
if [ -z "${NO_PYTORCH:-}" ]; then
  # the wrappers run scripts by their path relative to $REF_DIR
  run_one reference torch "$REF_DIR/$REF" "$(realpath --relative-to="$REF_DIR" bench/torch_info.py)"
fi
# GEMM: torch's and Accrue's on the same linear layers (tokens:in:out), forms and thread counts; spec FORM:T:SHAPE.
if [ -z "$QUICK" ] && [ -z "${NO_PYTORCH:-}" ]; then
  gemm_threads=$(printf '%s\n' 1 "$THREADS" | sort -un | paste -sd,)
  gemm_shapes=$(echo $GEMM_SHAPES | tr ' ' ,)
  echo "  GEMM: bench/gemm_forms.py and GemmBench, forward/dx/dw on $GEMM_SHAPES, threads $gemm_threads" >&2
  for t in ${gemm_threads//,/ }; do
    { "$REF_DIR/$REF" "$(realpath --relative-to="$REF_DIR" bench/gemm_forms.py)" "$t" "$gemm_shapes" 2>/dev/null \
        || true; } | python3 -c '
import json, sys
for line in sys.stdin:
    if line.startswith("{"):
        r = json.loads(line)
        spec = "%s:%d:%d:%d:%d" % (r["form"], r["threads"], r["tokens"], r["in"], r["out"])
        print(json.dumps({"variant": "gemm-torch", "spec": spec, "result": r}))' >> "$raw"
  done
  { "${JAVA[@]}" -cp "$CP" io.accrue.bench.GemmBench --shapes "$gemm_shapes" --forms forward,dx,dw \
      --threads "$gemm_threads" 2>/dev/null || true; } | python3 -c '
import json, re, sys
for line in sys.stdin:
    m = re.match(r"RESULT shape=(\d+):(\d+):(\d+) form=(\w+) threads=(\d+) .* gflops=([\d.]+)", line)
    if m:
        spec = f"{m[4]}:{m[5]}:{m[1]}:{m[2]}:{m[3]}"
        print(json.dumps({"variant": "gemm-accrue", "spec": spec, "result": {"gflops": float(m[6])}}))' >> "$raw"
fi

variants=(accrue)
[ -z "${NO_PYTORCH:-}" ] && variants+=(pytorch)
[ -n "${BASELINE_CP:-}" ] && variants+=(baseline)
calib=()
[ -n "$QUICK" ] && calib=(--calib-seconds 0)
for spec in $CONFIGS; do
  IFS=: read -r kind a1 a2 a3 a4 <<< "$spec"
  if [ "$kind" = gpt ] || [ "$kind" = cnn ]; then name=$a1; b=$a2; k=$a3; else name=mlp; b=$a1; k=$a2; fi
  concurrent=()
  [ "$kind" = gpt ] && [ -n "$a4" ] && concurrent=(--concurrent "$a4")
  read -r steps warmup <<< "$(steps_for "$kind" "$name" "$b" "$k")"
  for ((rep = 0; rep < REPS; rep++)); do
    n=${#variants[@]}
    for ((v = 0; v < n; v++)); do
      variant=${variants[$(((v + rep) % n))]}
      echo "  $spec rep $((rep + 1))/$REPS: $variant (steps $steps, warm-up $warmup)" >&2
      case "$variant" in
        accrue|baseline)
          # a baseline build may predate --concurrent and --peak-gflops (its MFU is not shown)
          cp=$CP; extra=("${peak_args[@]}")
          [ "$variant" = baseline ] && cp=$BASELINE_CP && extra=()
          if [ "$kind" = cnn ]; then
            run_one "$variant" "$spec" "${JAVA[@]}" -cp "$cp" io.accrue.bench.FashionMnistBench --model "$name" \
              --micro-batch "$b" --accum "$k" --max-steps "$steps" --test-limit 1000 --threads "$THREADS"
          elif [ "$kind" = gpt ]; then
            [ "$variant" = accrue ] && extra+=("${concurrent[@]}")
            run_one "$variant" "$spec" "${JAVA[@]}" -cp "$cp" io.accrue.bench.GptBench --config "$name" \
              --micro-batch "$b" --accum "$k" --steps "$steps" --warmup "$warmup" --threads "$THREADS" \
              "${extra[@]}"
          else
            run_one "$variant" "$spec" "${JAVA[@]}" -cp "$cp" io.accrue.bench.MlpBench \
              --micro-batch "$b" --accum "$k" --steps "$steps" --warmup "$warmup" --threads "$THREADS" \
              "${extra[@]}"
          fi ;;
        pytorch)
          if [ "$kind" = cnn ]; then
            run_one pytorch "$spec" "$TORCH_PYTHON" bench/cnn_bench.py --model "$name" --micro-batch "$b" \
              --accum "$k" --max-steps "$steps" --test-limit 1000 --threads "$THREADS"
          elif [ "$kind" = gpt ]; then
            run_one pytorch "$spec" "$REF_DIR/$REF" gpt_bench.py --config "$name" --micro-batch "$b" \
              --accum "$k" --steps "$steps" --warmup "$warmup" --threads "$THREADS" "${calib[@]}" "${peak_args[@]}"
          else
            run_one pytorch "$spec" "$REF_DIR/$REF" mlp_bench.py --micro-batch "$b" --accum "$k" \
              --steps "$steps" --warmup "$warmup" --threads "$THREADS" "${calib[@]}" "${peak_args[@]}"
          fi ;;
      esac
    done
  done
done
end_date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
end_load=$(load)
make_table "$raw" "$CONFIGS" "$REPS" "$start_date" "$start_load" "$end_date" "$end_load" "${BASELINE_CP:-}" \
  "$THREADS" "${QUICK:-}" > "$table"

cat "$table"
echo "compare.sh: table in $table, raw runs in $raw" >&2
