#!/usr/bin/env bash
# Runs the whole test suite under every kernel choice that changes float results and reports, per comparison, the
# worst normalised error observed and its tolerance (tolerances should sit ~10x above the worst, never 100x):
#   OPENBLAS_CORETYPE as the environment sets it, unset, =Haswell, =SkylakeX, and the pure-Java GEMM
#   (-Dvaritune.blas=false); each run covers the fast and the plain CPU kernels (the two surefire executions).
# Usage: tools/tolerances/observe.sh [OUT_DIR]     (~4 suite runs; failures are reported, not fatal)
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${1:-target/tolerances}"
mkdir -p "$out"
log="$(cd "$out" && pwd)/errors.tsv"
: > "$log"
flags='--add-modules=jdk.incubator.vector -XX:+UseTransparentHugePages'
run() {  # name, then `env` arguments (assignments and -u NAME); MVN_EXTRA adds mvn arguments
  local name="$1"; shift
  echo "== $name" >&2
  env "$@" VARITUNE_ERROR_LOG="$log" mvn -q -o verify -Dmaven.test.failure.ignore=true ${MVN_EXTRA:+"$MVN_EXTRA"} \
    > "$out/$name.log" 2>&1
  grep -h "Tests run:.*Fail" "$out/$name.log" | tail -3 >&2
  grep -h "<<< FAIL" "$out/$name.log" | sed 's/^/   /' >&2
}
run unset -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
run haswell OPENBLAS_CORETYPE=Haswell
run skylakex OPENBLAS_CORETYPE=SkylakeX
MVN_EXTRA="-Dvaritune.jvm.flags=$flags -Dvaritune.blas=false" run pure-java-gemm -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
# worst error per (test, label with layer/index numbers folded), with the tolerance it is checked against
python3 - "$log" > "$out/worst.tsv" <<'PY'
import sys, re, collections
worst = {}
for line in open(sys.argv[1]):
    p = line.rstrip('\n').split('\t')
    if len(p) < 7: continue
    test, label, err, tol = p[0], re.sub(r'\d+', '#', p[1]), float(p[2]), float(p[3])
    cfg = f"{p[4]}/{p[5]}/blas={p[6]}"
    k = (test, label, tol)
    if k not in worst or err > worst[k][0]: worst[k] = (err, cfg)
print("test\tlabel\tworst_error\ttolerance\ttol/worst\tworst_under")
for (test, label, tol), (err, cfg) in sorted(worst.items(), key=lambda kv: kv[1][0] / kv[0][2] if 0 < kv[0][2] < 1e300 else 0, reverse=True):
    ratio = tol / err if err > 0 else float('inf')
    print(f"{test}\t{label}\t{err:.3e}\t{tol:.1e}\t{ratio:.1f}\t{cfg}")
PY
echo "wrote $out/worst.tsv" >&2
