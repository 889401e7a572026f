#!/usr/bin/env bash
# GEMM GFLOPS: Accrue (io.accrue.bench.GemmBench) against numpy's matmul (OpenBLAS) on the same shapes, forms
# and thread counts. Each case runs Accrue and then numpy back to back (interleaved), so both see the same
# machine load; the ratio of the two is the number to quote. Prints a markdown table.
#
#   bench/gemm_vs_numpy.sh                     # all shapes, forms, threads 1 and 2
#   SHAPES="1024:1024:1024" THREADS="1" FORMS="dx" bench/gemm_vs_numpy.sh
#   NO_BUILD=1 bench/gemm_vs_numpy.sh          # skip the maven package step
#
# A shape is N:in:out for a linear layer with W (out, in) over N rows; forms (law 3 of DESIGN.md for Accrue):
#   forward  Y += X·Wᵀ   m=N,   n=out, k=in      numpy: matmul(X, W.T, out=Y)
#   dx       dX += dY·W  m=N,   n=in,  k=out     numpy: matmul(dY, W, out=dX)
#   dw       dW += dYᵀ·X m=out, n=in,  k=N       numpy: matmul(dY.T, X, out=dW)
# (numpy overwrites its output, β = 0; Accrue accumulates into it, β = 1.)
# Columns: wall-clock GFLOPS (median of REPS, min–max) and their ratio; then GFLOPS per CPU-second of the
# process × threads (what the cores deliver while they run; less sensitive to other load on a shared machine).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh

SHAPES=${SHAPES:-"1024:1024:1024 4096:768:768 4096:768:3072 4096:3072:768"}
FORMS=${FORMS:-"forward dx dw"}
THREADS=${THREADS:-"1 2"}
WARMUP=${WARMUP:-1.0}
REPS=${REPS:-7}
REP_TIME=${REP_TIME:-0.2}

PYTHON=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c "import numpy" 2>/dev/null; then PYTHON=$p; break; fi
done
if [ -z "$PYTHON" ]; then
  echo "gemm_vs_numpy: no python3 with numpy found (tried python3, /usr/bin/python3)" >&2
  exit 2
fi

if [ -z "${NO_BUILD:-}" ]; then
  mvn -B -q -ntp -DskipTests package -pl bench -am
fi

NUMPY_BENCH='
import sys, time
import numpy as np
tokens, fin, fout = map(int, sys.argv[1].split(":"))
form, warmup, reps, rep_time = sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
rng = np.random.default_rng(42)
def rand(*shape):
    return rng.uniform(-1, 1, shape).astype(np.float32)
x, w, dy = rand(tokens, fin), rand(fout, fin), rand(tokens, fout)
if form == "forward":
    y = np.zeros((tokens, fout), np.float32); call = lambda: np.matmul(x, w.T, out=y); m, n, k = tokens, fout, fin
elif form == "dx":
    dx = np.zeros((tokens, fin), np.float32); call = lambda: np.matmul(dy, w, out=dx); m, n, k = tokens, fin, fout
else:
    dw = np.zeros((fout, fin), np.float32); call = lambda: np.matmul(dy.T, x, out=dw); m, n, k = fout, fin, tokens
flops = 2.0 * m * n * k
t0 = time.perf_counter(); calls = 0
while True:
    call(); calls += 1
    if time.perf_counter() - t0 >= warmup:
        break
batch = max(1, int(-(-rep_time // ((time.perf_counter() - t0) / calls))))
g, cpu = [], []
threads = int(sys.argv[6])
for _ in range(reps):
    c = time.process_time()
    s = time.perf_counter()
    for _ in range(batch):
        call()
    g.append(flops * batch / (time.perf_counter() - s) / 1e9)
    cpu.append(flops * batch * threads / (time.process_time() - c) / 1e9)
g.sort(); cpu.sort()
print("%.1f %.1f %.1f %.1f" % (g[len(g) // 2], g[0], g[-1], cpu[len(cpu) // 2]))
'

CP=bench/target/classes:core/target/classes
rows=()
echo "# $(date -u +%FT%TZ) $(java -version 2>&1 | head -n1); numpy $("$PYTHON" -c 'import numpy; print(numpy.__version__)'); load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for t in $THREADS; do
  for shape in $SHAPES; do
    for form in $FORMS; do
      acc=$(java --add-modules jdk.incubator.vector -cp "$CP" io.accrue.bench.GemmBench --shapes "$shape" \
              --forms "$form" --threads "$t" --warmup "$WARMUP" --reps "$REPS" --rep-time "$REP_TIME" 2>/dev/null \
            | sed -n 's/^RESULT .* gflops=\([0-9.]*\) min=\([0-9.]*\) max=\([0-9.]*\) cpu=\([0-9.]*\).*/\1 \2 \3 \4/p')
      np=$(OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$PYTHON" -c "$NUMPY_BENCH" "$shape" "$form" "$WARMUP" \
              "$REPS" "$REP_TIME" "$t")
      read -r am amin amax acpu <<<"$acc"
      read -r nm nmin nmax ncpu <<<"$np"
      ratio=$(awk -v a="$am" -v b="$nm" 'BEGIN { printf "%.2f", a / b }')
      cratio=$(awk -v a="$acpu" -v b="$ncpu" 'BEGIN { printf "%.2f", a / b }')
      line="| $shape | $form | $t | $am ($amin–$amax) | $nm ($nmin–$nmax) | $ratio | $acpu | $ncpu | $cratio |"
      echo "$line" >&2
      rows+=("$line")
    done
  done
done
echo "# done, load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "| shape N:in:out | form | threads | Accrue GFLOPS median (min–max) | numpy GFLOPS median (min–max) | ratio | Accrue per CPU-s | numpy per CPU-s | CPU ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
