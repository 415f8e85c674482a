#!/usr/bin/env bash
# The side-by-side benchmark (not a test): encoder forward and training-step throughput of varitune against PyTorch
# CPU eager (Debian python3-torch, same thread count) and ONNX Runtime Java, plus the raw OpenBLAS GEMM rate, in one
# run on this machine. Prints every raw line and a summary table with the ratios.
#
#   benchmarks/run.sh [forward|train|all]      (default all; THREADS=2 ITERS=10 by default)
#   benchmarks/run.sh rss                      peak resident memory (/usr/bin/time -v, apt package `time`) of the
#                                              launcher's commands with its default heap: analyze, train full and
#                                              partial (300 examples, 1 epoch), one shard of a reduced demo sweep, and the whole demo
#   benchmarks/run.sh jmh [JMH options]        JMH micro-benchmarks of the kernels (GemmBench, AttentionBench,
#                                              LayerNormBench, GeluBench, AdamWBench; org.varitune.benchmarks.jmh),
#                                              e.g. `jmh -f 1 -wi 2 -i 3`, `jmh -l`, `jmh -p shape=768x3072 GemmBench`
#
# Both sides run with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (the AVX-512 kernels; see DEVELOPERS.md), torch with
# jemalloc preloaded (pages retained: MALLOC_CONF) and Debian's OpenMP OpenBLAS. Needs: python3-torch, libopenblas0-openmp, libjemalloc2 (apt).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WHAT="${1:-all}"
THREADS="${THREADS:-2}"
ITERS="${ITERS:-10}"
PY=/usr/bin/python3
JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
# jemalloc must keep freed pages: with its default decay it returns them to the OS and every step pays the first
# touch again (~13 us per 4 KiB page here), which made the same PyTorch forward 8x slower
export MALLOC_CONF="dirty_decay_ms:-1,muzzy_decay_ms:-1"
echo "peer settings: LD_PRELOAD=$JEMALLOC MALLOC_CONF=$MALLOC_CONF OMP_NUM_THREADS=$THREADS OPENBLAS_CORETYPE=unset" >&2
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
CP="$ROOT/experiments/target/classes:$(cat "$ROOT/experiments/target/cli.classpath")"
BCP="$ROOT/benchmarks/target/classes:$(cat "$ROOT/benchmarks/target/bench.classpath")"
# heap pre-touched: first touch of fresh pages costs ~13 us per 4 KiB here and made batch-8 runs 2.7x slower at random
JAVA=(java --add-modules=jdk.incubator.vector -XX:+UseTransparentHugePages -Xms2g -Xmx8g -XX:+AlwaysPreTouch -Dvaritune.threads="$THREADS")
lastval() { grep -E "^$1=" | tail -1 | cut -d= -f2; }
declare -A R

echo "== machine: $(nproc) cores, threads $THREADS, $(java -version 2>&1 | head -1), torch $($PY -c 'import torch;print(torch.__version__)')"
echo "== raw OpenBLAS GEMM rate and our matmuls on the encoder shapes"
"${JAVA[@]}" -cp "$ROOT/transformer/target/test-classes:$CP" org.varitune.transformer.kernels.KernelsBench 2>&1 | grep -v WARNING

if [[ ! -f "$CACHE/bert-base.onnx" ]]; then
  echo "== exporting a random bert-base-sized encoder to ONNX for the ONNX Runtime peer" >&2
  "$PY" benchmarks/peers/torch_bench.py --config bert-base --batch 2 --seq 16 --export-onnx "$CACHE/bert-base.onnx.tmp" >&2
  mv "$CACHE/bert-base.onnx.tmp" "$CACHE/bert-base.onnx"
fi

run_forward() {   # model-label varitune-model torch-config ort-args batch
  local label=$1 model=$2 tcfg=$3 ort=$4 b=$5
  echo "== forward $label batch $b x seq 128"
  local v t o
  v=$("${JAVA[@]}" -cp "$CP" org.varitune.experiments.cli.Main bench forward --model "$model" --batch "$b" --seq 128 --iters "$ITERS" --profile 2>&1 | tee -a "${LOG:-/dev/stderr}" | lastval forward_seq_per_s)
  t=$(LD_PRELOAD=$JEMALLOC "$PY" benchmarks/peers/torch_bench.py --config "$tcfg" --mode forward --batch "$b" --seq 128 --iters "$ITERS" --threads "$THREADS" 2>&1 | tee -a "${LOG:-/dev/stderr}" | lastval forward_seq_per_s)
  o=$("${JAVA[@]}" -cp "$BCP" org.varitune.benchmarks.OrtForwardBench $ort --batch "$b" --seq 128 --iters "$ITERS" --threads "$THREADS" 2>&1 | tee -a "${LOG:-/dev/stderr}" | lastval forward_seq_per_s)
  R["forward $label b$b"]="$v $t $o"
}

run_train() {
  local label=$1 model=$2 tcfg=$3 b=$4
  echo "== train step $label batch $b x seq 128 (forward + backward + AdamW, dropout on)"
  local v t
  v=$("${JAVA[@]}" -cp "$CP" org.varitune.experiments.cli.Main bench train --model "$model" --batch "$b" --seq 128 --iters "${TRAIN_ITERS:-5}" 2>&1 | tee -a "${LOG:-/dev/stderr}" | lastval train_seq_per_s)
  t=$(LD_PRELOAD=$JEMALLOC "$PY" benchmarks/peers/torch_bench.py --config "$tcfg" --mode train --batch "$b" --seq 128 --iters "${TRAIN_ITERS:-5}" --threads "$THREADS" 2>&1 | tee -a "${LOG:-/dev/stderr}" | lastval train_seq_per_s)
  R["train $label b$b"]="$v $t -"
}

if [[ $WHAT == forward || $WHAT == all ]]; then
  for b in 32 8; do
    run_forward e5-small-v2 e5-small-v2 e5-small "--resource e5-small-v2.onnx" "$b"
    run_forward bert-base random:bert-base bert-base "--onnx $CACHE/bert-base.onnx" "$b"
  done
fi
if [[ $WHAT == train || $WHAT == all ]]; then
  run_train e5-small-v2 e5-small-v2 e5-small 32
  run_train bert-base random:bert-base bert-base 32
fi

echo
echo "== summary (sequences/s; ratio = varitune / peer)"
printf "%-28s %10s %10s %10s %9s %9s\n" benchmark varitune pytorch onnxrt "vs torch" "vs ort"
for k in "${!R[@]}"; do
  read -r v t o <<< "${R[$k]}"
  rt=$(awk -v a="$v" -v b="$t" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else print "-" }')
  ro=$(awk -v a="$v" -v b="$o" 'BEGIN{ if (b+0>0) printf "%.2fx", a/b; else print "-" }')
  printf "%-28s %10s %10s %10s %9s %9s\n" "$k" "$v" "$t" "$o" "$rt" "$ro"
done | sort
