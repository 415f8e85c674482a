#!/usr/bin/env bash
# The side-by-side benchmark (not a test): encoder forward and training-step throughput of varitune against PyTorch
# CPU eager (Debian python3-torch, same thread count) and ONNX Runtime Java, plus the raw OpenBLAS GEMM rate, in one
# run on this machine. Prints every raw line and a summary table with the ratios.
#
#   benchmarks/run.sh [forward|train|all]      (default all; THREADS=2 ITERS=10 TRAIN_ITERS=5 REPEATS=3 TRAIN_WARMUP=3 by default;
#                                              MODELS="e5-small-v2 bert-base" by default, BATCHES="32 8" for forward)
#
# Each comparison runs REPEATS times (varitune, PyTorch, ONNX Runtime in turn, each in a fresh process); the summary
# gives each repeat's seq/s and ratio, then the median ratio and its range. The PyTorch peer loads the same converted
# weights as varitune (~/.cache/varitune/models/e5-small-v2) and, before timing, checks its last hidden state against
# `varitune encode --output` on the same token ids (fails above 1e-4 normalised error); bert-base is random weights on
# both sides (no output check). The ceiling: KernelsBench's raw sgemm rate per encoder shape (the better of OpenBLAS's
# own 2 threads and 2 single-threaded row tiles)
# (M = 4096 = 32 x 128 rows) and the FMA peak, measured by benchmarks/peak/fma_peak.c where gcc is (else cores x GHz x
# 2 FMA units x 16 fp32 lanes x 2 FLOP, AVX-512), with the achieved GFLOP/s of both sides as fractions of them.
#   benchmarks/run.sh rss                      peak resident memory (/usr/bin/time -v, apt package `time`) of the
#                                              launcher's commands with its default heap: analyze, train full and
#                                              partial (300 examples, 1 epoch), one shard of a reduced demo sweep, and the whole demo
#   benchmarks/run.sh jmh [JMH options]        JMH micro-benchmarks of the kernels (GemmBench, AttentionBench,
#                                              LayerNormBench, GeluBench, AdamWBench; org.varitune.benchmarks.jmh),
#                                              e.g. `jmh -f 1 -wi 2 -i 3`, `jmh -l`, `jmh -p shape=768x3072 GemmBench`
#
# Both sides run with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (the AVX-512 kernels; see DEVELOPERS.md), except that
# an OpenBLAS that does not know this CPU is given the newest core it has for it (see PEER_CORETYPE below), torch with
# jemalloc preloaded (pages retained: MALLOC_CONF) and Debian's OpenMP OpenBLAS put first on LD_LIBRARY_PATH (whatever
# the system's libblas.so.3 alternative points to). Needs: python3-torch, libopenblas0-openmp, libjemalloc2 (apt).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WHAT="${1:-all}"
THREADS="${THREADS:-2}"
ITERS="${ITERS:-10}"
REPEATS="${REPEATS:-3}"
MODELS="${MODELS:-e5-small-v2 bert-base}"
BATCHES="${BATCHES:-32 8}"
TRAIN_WARMUP="${TRAIN_WARMUP:-3}"
OPENBLAS_OMP=/usr/lib/x86_64-linux-gnu/openblas-openmp
PY=/usr/bin/python3
JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
# jemalloc must keep freed pages: with its default decay it returns them to the OS and every step pays the first
# touch again (~13 us per 4 KiB page here), which made the same PyTorch forward 8x slower
export MALLOC_CONF="dirty_decay_ms:-1,muzzy_decay_ms:-1"
CACHE="${VARITUNE_CACHE:-$HOME/.cache/varitune}/bench"
mkdir -p "$CACHE"
export -n OPENBLAS_CORETYPE OPENBLAS_L2_SIZE 2>/dev/null || true
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OMP_NUM_THREADS="$THREADS"

if [[ $WHAT == jmh ]]; then
  shift
  mvn -q -B -pl benchmarks -am package -DskipTests >&2
  # forks inherit these JVM flags (JMH's default when no -jvmArgs is given)
  exec java --add-modules=jdk.incubator.vector -XX:+UseTransparentHugePages -Dvaritune.threads="$THREADS" \
    -cp "$ROOT/benchmarks/target/classes:$(cat "$ROOT/benchmarks/target/bench.classpath")" org.openjdk.jmh.Main "$@"
fi

if [[ $WHAT == rss ]]; then
  # the launcher's own heap sizing (see ./varitune); each command on the built-in task, shortened
  [[ -x /usr/bin/time ]] || { echo "rss: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
  OUT="$(mktemp -d)"
  trap 'rm -rf "$OUT"' EXIT
  sed -e 's/^seeds:.*/seeds: [1]/' -e 's/^  epochs:.*/  epochs: 1\n  max_train_examples: 300/' \
      -e 's/^  variant: paper/  variant: paper\n  max_examples: 300/' experiments/configs/demo.yaml > "$OUT/demo-short.yaml"
  C=(--task wordnet-bigram-shift --max-examples 300 --max-length 64)
  rss() {  # label, varitune arguments...
    local label=$1; shift
    VARITUNE_HEAP_VERBOSE=1 /usr/bin/time -v -o "$OUT/$label.time" ./varitune "$@" > "$OUT/$label.log" 2>&1 \
      || { echo "$label failed:"; tail -5 "$OUT/$label.log"; return 1; }
    printf "%-34s %6d MiB peak RSS  %8s wall  heap %s\n" "$label" \
      $(( $(awk '/Maximum resident/ {print $NF}' "$OUT/$label.time") / 1024 )) "$(awk '/Elapsed/ {print $NF}' "$OUT/$label.time")" \
      "$(grep -o -- '-Xms[0-9]*m -Xmx[0-9]*m' "$OUT/$label.log" | head -1)"
  }
  ./varitune --version > /dev/null                 # builds first, so the build is not measured
  echo "== peak RSS, default heap of the launcher (VARITUNE_PROCESSES=${VARITUNE_PROCESSES:-3})"
  rss "analyze" analyze "${C[@]}" --out "$OUT/analyze"
  rss "train --mode full" train "${C[@]}" --mode full --epochs 1 --batch-size 32 --out "$OUT/full"
  rss "train --mode partial" train "${C[@]}" --mode partial --head-layer 6 --tune-layers 2 --epochs 1 --batch-size 32 \
    --out "$OUT/partial"
  rss "demo sweep, shard 0 of 3" sweep "$OUT/demo-short.yaml" --out "$OUT/demo" --shard 0/3
  rss "demo (the main job, whole)" demo --out "$OUT/demo-whole"
  exit 0
fi

echo "== build" >&2
mvn -q -B package -DskipTests >&2
mvn -q -B test-compile -pl transformer >&2
for f in "$JEMALLOC" "$OPENBLAS_OMP/libblas.so.3"; do
  [[ -f $f ]] || { echo "missing $f (apt: libjemalloc2, libopenblas0-openmp)" >&2; exit 2; }
done
CP="$ROOT/experiments/target/classes:$(cat "$ROOT/experiments/target/cli.classpath")"
BCP="$ROOT/benchmarks/target/classes:$(cat "$ROOT/benchmarks/target/bench.classpath")"
# heap pre-touched, all of it (-Xms = -Xmx): first touch of fresh pages costs ~13 us per 4 KiB here and made batch-8
# runs 2.7x slower at random; with only -Xms2g of 8g touched, the heap's growth paid it inside the timed steps
# (measured 2026-12-01, e5-small B32 x S128: training step 8.87 s with -Xms2g, 5.76 s with -Xms8g; forward 1.30 vs 1.11 s)
JAVA=(java --add-modules=jdk.incubator.vector -XX:+UseTransparentHugePages -Xms8g -Xmx8g -XX:+AlwaysPreTouch -Dvaritune.threads="$THREADS")
# The peer's OpenBLAS at its best: an OpenBLAS older than the CPU does not know its model and falls back to a generic
# core (Debian's 0.3.21 on an Emerald Rapids, CPU model 207: "Prescott", SSE3 kernels; measured 2026-12-01, e5-small
# B32 forward 6.1 seq/s against 25.0 with OPENBLAS_CORETYPE=SkylakeX). Then the peer gets the newest core type its
# OpenBLAS has for this CPU's vector width (SkylakeX with AVX-512, Haswell with AVX2); a known core is left as detected.
# PEER_CORETYPE=<name> forces one. varitune's bundled OpenBLAS is probed the same way (its core is printed below).
corename() {  # libopenblas.so path [OPENBLAS_CORETYPE] -> the core it runs
  env -u OPENBLAS_CORETYPE ${2:+OPENBLAS_CORETYPE=$2} "$PY" -c 'import ctypes, sys
ob = ctypes.CDLL(sys.argv[1]); ob.openblas_get_corename.restype = ctypes.c_char_p
print(ob.openblas_get_corename().decode())' "$1"
}
vector_core() { grep -qw avx512f /proc/cpuinfo && echo SkylakeX || { grep -qw avx2 /proc/cpuinfo && echo Haswell || echo ""; }; }
PEER_CORE_DETECTED=$(corename "$OPENBLAS_OMP/libopenblas.so.0" 2>/dev/null || echo unknown)
case "${PEER_CORETYPE:-}" in
  "") case "$PEER_CORE_DETECTED" in
        Prescott|Katmai|Coppermine|Northwood|Core2|Penryn|Dunnington|Nehalem|Atom|Banias|unknown) PEER_CORETYPE=$(vector_core) ;;
      esac ;;
esac
PEER=(env LD_LIBRARY_PATH="$OPENBLAS_OMP" LD_PRELOAD="$JEMALLOC" ${PEER_CORETYPE:+OPENBLAS_CORETYPE=$PEER_CORETYPE} "$PY" benchmarks/peers/torch_bench.py)
LOG="${LOG:-$CACHE/run-$(date -u +%Y%m%dT%H%M%S).log}"
exec 3>&1   # the peer's own settings line and its output check go to stdout from inside $(...)
lastval() { grep -E "^$1=" | tail -1 | cut -d= -f2; }
declare -A R          # "kind model bB" -> "v1 v2 ...|t1 t2 ...|o1 o2 ..."
MD="${VARITUNE_CACHE:-$HOME/.cache/varitune}/models"
CHECKS="$(mktemp -d)"
trap 'rm -rf "$CHECKS"' EXIT

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p') (family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p')), $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg); raw log $LOG"
VARITUNE_OB=$(find "$HOME/.javacpp/cache" -name 'libopenblas_nolapack.so*' 2>/dev/null | head -1)
VARITUNE_CORE=$([[ -n $VARITUNE_OB ]] && corename "$VARITUNE_OB" 2>/dev/null || echo unknown)
echo "== varitune settings: $(java -version 2>&1 | head -1); OpenBLAS core $VARITUNE_CORE; ${JAVA[*]:1}; OpenBLAS bundled by JavaCPP ($(grep -o 'openblas-[0-9.]*-[0-9.]*-linux-x86_64' "$ROOT/experiments/target/cli.classpath" | head -1), DYNAMIC_ARCH), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}; allocator: Java heap (-Xms8g -Xmx8g, all pre-touched)"
echo "== peer OpenBLAS core: detected $PEER_CORE_DETECTED, run as ${PEER_CORETYPE:-detected} (OPENBLAS_CORETYPE=${PEER_CORETYPE:-unset} for the peer only)"
echo "== peer settings: ${PEER[*]:0:4} MALLOC_CONF=$MALLOC_CONF OMP_NUM_THREADS=$OMP_NUM_THREADS ATEN_CPU_CAPABILITY=${ATEN_CPU_CAPABILITY:-unset}; ONNX Runtime Java: intra-op threads $THREADS, the same warm-up and iters as the other sides (forward: max(2, ceil(64/B)) iterations; training: $TRAIN_WARMUP steps)"
echo "== the ceiling: raw OpenBLAS sgemm (2 threads) and our matmuls on the encoder shapes"
if [[ ${KERNELS_BENCH:-1} == 1 ]]; then   # KERNELS_BENCH=0 reuses the table of the previous run
  "${JAVA[@]}" -cp "$ROOT/transformer/target/test-classes:$CP" org.varitune.transformer.kernels.KernelsBench 2>&1 | grep -v WARNING > "$CACHE/kernels.txt"
fi
cat "$CACHE/kernels.txt"
# FMA peak: cores x GHz x 2 FMA units x 16 fp32 lanes (AVX-512) x 2 FLOP per FMA; GHz = lscpu's max MHz, else the
# nominal MHz of /proc/cpuinfo (a VM may not expose the boost clock: then the real peak is higher than this; here the
# nominal 2.1 GHz gives a "peak" below the measured sgemm rate)
# (CPU_GHZ=3.48 gives a measured clock instead: the README's figure, from a chain of dependent integer adds, 1 per cycle)
MHZ=$(lscpu | sed -n 's/^CPU max MHz: *//p'); MHZ_SRC="lscpu CPU max MHz"
[[ -z ${CPU_GHZ:-} ]] || { MHZ=$(awk -v g="$CPU_GHZ" 'BEGIN { print g * 1000 }'); MHZ_SRC="CPU_GHZ given"; }
[[ -n $MHZ ]] || { MHZ=$(awk -F: '/^cpu MHz/ {print $2; exit}' /proc/cpuinfo); MHZ_SRC="/proc/cpuinfo cpu MHz (nominal; no max exposed)"; }
PEAK=$(awk -v n="$(nproc)" -v m="$MHZ" 'BEGIN { printf "%.1f", n * m / 1000 * 2 * 16 * 2 }')
echo "FMA peak = $(nproc) cores x $MHZ MHz ($MHZ_SRC) x 2 FMA units x 16 lanes x 2 = $PEAK GFLOP/s"
# measured where gcc is: THREADS threads of register-only FMA chains for about a second (benchmarks/peak/fma_peak.c);
# this one, not the nominal figure, is the peak of the summaries (the clock under AVX-512 load, and what the other
# tenants leave, are in it)
if command -v gcc > /dev/null && gcc -O2 -march=native -pthread -o "$CACHE/fma_peak" "$ROOT/benchmarks/peak/fma_peak.c" 2> "$CACHE/fma_peak.err"; then
  PEAK_OUT=$("$CACHE/fma_peak" "$THREADS") || PEAK_OUT=""
  echo "$PEAK_OUT"                # (not tee /dev/stderr: with the output redirected to a file, that reopens and truncates it)
  MEASURED=$(sed -n 's/^fma_peak_gflops=//p' <<< "$PEAK_OUT")
  [[ -n $MEASURED ]] && { PEAK=$MEASURED; echo "FMA peak measured with $THREADS threads: $PEAK GFLOP/s (used below)"; }
else
  echo "FMA peak not measured (no gcc, or benchmarks/peak/fma_peak.c does not build here: $CACHE/fma_peak.err); the nominal figure is used"
fi
# the BF16 dot-product peak (`fma_peak THREADS bf16`: VDPBF16PS chains) beside the FP32 one: whether a BF16-input /
# FP32-accumulate GEMM could outrun FP32 on this CPU at all (only a build for a CPU with AVX512-BF16 measures it)
BF16_OUT=$([[ -x $CACHE/fma_peak && -n ${MEASURED:-} ]] && "$CACHE/fma_peak" "$THREADS" bf16 2>&1) || true
echo "$BF16_OUT"
BF16=$(sed -n 's/^bf16_dot_peak_gflops=//p' <<< "$BF16_OUT")
if [[ -n $BF16 ]]; then
  awk -v b="$BF16" -v p="$PEAK" 'BEGIN { printf "BF16 dot-product peak %.1f GFLOP/s = %.2f x the FP32 FMA peak %.1f\n", b, b / p, p }'
else
  echo "BF16 dot-product peak not measured (no AVX512-BF16 here, or no measured FP32 peak to compare it with)"
fi
# the sgemm ceiling of an encoder layer: its matmul FLOPs at each shape's raw sgemm rate (4 x CxC, C->I, I->C)
sgemm_ceiling() {  # C I -> GFLOP/s
  awk -v C="$1" -v I="$2" '$2 ~ /^[0-9]+$/ && $3 == "|" { r[$1 "x" $2] = $4 }
    END { f1 = 4*C*C; f2 = C*I; f3 = I*C; t = f1 / r[C "x" C] + f2 / r[C "x" I] + f3 / r[I "x" C];
          if (r[C "x" C] > 0 && r[C "x" I] > 0 && r[I "x" C] > 0) printf "%.1f", (f1 + f2 + f3) / t; else print "" }' "$CACHE/kernels.txt"
}

if [[ " $MODELS " == *" bert-base "* && ! -f "$CACHE/bert-base.onnx" ]]; then
  echo "== exporting a random bert-base-sized encoder to ONNX for the ONNX Runtime peer" >&2
  "$PY" benchmarks/peers/torch_bench.py --config bert-base --batch 2 --seq 16 --export-onnx "$CACHE/bert-base.onnx.tmp" >&2
  mv "$CACHE/bert-base.onnx.tmp" "$CACHE/bert-base.onnx"
fi

peer_args() {  # model -> torch_bench.py's weight arguments (real weights and the output check where varitune has them)
  case $1 in
    bert-base) echo "--config bert-base" ;;
    *) local chk="$CHECKS/$1.safetensors"   # written once per run of this script
       if [[ ! -f $chk ]]; then
         "${JAVA[@]}" -cp "$CP" org.varitune.experiments.cli.Main encode --model "$1" --max-length 128 \
           --text "The quick brown fox jumps over the lazy dog." --text "Layer variability guides which layers to tune." \
           --text "A third, longer sentence pads nothing but tests the attention mask of the two shorter ones above it." \
           --output "$chk" >> "$LOG" 2>&1 || { echo "varitune encode failed: see $LOG" >&2; exit 1; }
       fi
       echo "--model $MD/$1 --check $chk" ;;
  esac
}
vmodel() { [[ $1 == bert-base ]] && echo random:bert-base || echo "$1"; }

# Warm-up, the same on every side: forward passes over at least 64 sequences (2 iterations at B32, 8 at B8), training
# steps 3. The JVM compiles its Vector API loops only after they ran a while: at B8, 2 warm-up iterations (0.8 s) left
# GELU and attention partly interpreted in the timed ones (measured 2026-12-01, e5-small B8: 18.7 seq/s after 2
# warm-up iterations, 21.4 and 24.5 after 5); PyTorch and ONNX Runtime are flat after their first iteration.
fwd_warmup() { local w=$(( (64 + $1 - 1) / $1 )); (( w < 2 )) && w=2; echo "$w"; }
run_forward() {   # model batch
  local m=$1 b=$2 ort v t o pa w
  w=$(fwd_warmup "$b")
  [[ $m == bert-base ]] && ort="--onnx $CACHE/bert-base.onnx" || ort="--resource $m.onnx"
  pa=$(peer_args "$m")
  for ((r = 1; r <= REPEATS; r++)); do
    echo "== forward $m batch $b x seq 128, repeat $r/$REPEATS" | tee -a "$LOG"
    v=$("${JAVA[@]}" -cp "$CP" org.varitune.experiments.cli.Main bench forward --model "$(vmodel "$m")" --batch "$b" --seq 128 --iters "$ITERS" --warmup "$w" 2>&1 | tee -a "$LOG" | lastval forward_seq_per_s)
    t=$("${PEER[@]}" $pa --mode forward --batch "$b" --seq 128 --iters "$ITERS" --warmup "$w" --threads "$THREADS" 2>&1 | tee -a "$LOG" | tee >(grep -E '^(output check|peer settings)' >&3) | lastval forward_seq_per_s)
    o=$("${JAVA[@]}" -cp "$BCP" org.varitune.benchmarks.OrtForwardBench $ort --batch "$b" --seq 128 --iters "$ITERS" --warmup "$w" --threads "$THREADS" 2>&1 | tee -a "$LOG" | lastval forward_seq_per_s)
    [[ -n $t ]] || { echo "PyTorch peer failed (output check?): see $LOG" >&2; exit 1; }
    R["forward $m b$b"]+="$v $t ${o:--};"
  done
}

run_train() {  # model
  local m=$1 b=32 v t pa
  pa=$(peer_args "$m")
  for ((r = 1; r <= REPEATS; r++)); do
    echo "== train step $m batch $b x seq 128 (forward + backward + clip + AdamW, dropout on), repeat $r/$REPEATS" | tee -a "$LOG"
    v=$("${JAVA[@]}" -cp "$CP" org.varitune.experiments.cli.Main bench train --model "$(vmodel "$m")" --batch "$b" --seq 128 --iters "${TRAIN_ITERS:-5}" --warmup "$TRAIN_WARMUP" 2>&1 | tee -a "$LOG" | lastval train_seq_per_s)
    t=$("${PEER[@]}" $pa --mode train --batch "$b" --seq 128 --iters "${TRAIN_ITERS:-5}" --warmup "$TRAIN_WARMUP" --threads "$THREADS" 2>&1 | tee -a "$LOG" | tee >(grep -E '^output check' >&3) | lastval train_seq_per_s)
    [[ -n $t ]] || { echo "PyTorch peer failed (output check?): see $LOG" >&2; exit 1; }
    R["train $m b$b"]+="$v $t -;"
  done
}

if [[ $WHAT == forward || $WHAT == all ]]; then
  for b in $BATCHES; do for m in $MODELS; do run_forward "$m" "$b"; done; done
fi
if [[ $WHAT == train || $WHAT == all ]]; then
  for m in $MODELS; do run_train "$m"; done
fi

echo
echo "== summary: sequences/s per repeat (varitune / pytorch / onnxrt), ratio = varitune / peer; median [min-max] of $REPEATS"
# FLOPs per sequence (BenchCommand.forwardFlops): L x (2T(4C^2 + 2CI) + 4T^2 C) at T = 128; a training step 3x that
for k in $(printf '%s\n' "${!R[@]}" | sed 's/ /_/g' | sort); do
  key=${k//_/ }; read -r kind m b <<< "$key"
  case $m in bert-base) C=768 I=3072 ;; all-MiniLM-L6-v2) C=384 I=1536 ;; *) C=384 I=1536 ;; esac
  L=12; [[ $m == all-MiniLM-L6-v2 ]] && L=6
  echo "$key:"
  awk -v rows="${R[$key]}" -v kind="$kind" -v L=$L -v C=$C -v I=$I -v peak="$PEAK" -v ceil="$(sgemm_ceiling $C $I)" '
    function med(a, n,  i, j, x) { for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j+1] = a[j]; a[j+1] = x }
                                  return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
    BEGIN { n = split(rows, rs, ";"); k = 0; ko = 0
      T = 128; f = L * (2*T*(4*C*C + 2*C*I) + 4*T*T*C); if (kind == "train") f *= 3
      for (i = 1; i <= n; i++) { if (rs[i] == "") continue; split(rs[i], x, " "); k++
        v[k] = x[1]; t[k] = x[2]; rt[k] = x[1] / x[2]; line = sprintf("  repeat %d: %8.2f %8.2f %8s   vs torch %.2fx", k, x[1], x[2], x[3], rt[k])
        if (x[3] != "-" && x[3] > 0) { ko++; ro[ko] = x[1] / x[3]; line = line sprintf("   vs ort %.2fx", ro[ko]) }
        print line }
      mr = med(rt, k); printf "  median vs torch %.2fx [%.2f-%.2f]", mr, rt[1], rt[k]   # med sorts its array
      if (ko) { mo = med(ro, ko); printf ", vs ort %.2fx [%.2f-%.2f]", mo, ro[1], ro[ko] }
      mv = med(v, k); mt = med(t, k)
      printf "\n  GFLOP/s at the median seq/s (%.3g FLOP per sequence): varitune %.1f, pytorch %.1f", f, mv * f / 1e9, mt * f / 1e9
      if (ceil != "") printf "; of the sgemm ceiling %s GFLOP/s: varitune %.0f%%, pytorch %.0f%%", ceil, 100 * mv * f / 1e9 / ceil, 100 * mt * f / 1e9 / ceil
      printf "; of the FMA peak %s GFLOP/s: varitune %.0f%%, pytorch %.0f%%\n", peak, 100 * mv * f / 1e9 / peak, 100 * mt * f / 1e9 / peak }'
done
