#!/usr/bin/env bash
# The GPU backend's device checks in one go, in two steps because the GPU machine has no network and maybe no Java:
#
#   tools/cuda/gpu_check.sh prepare   (on the development machine, online)
#       builds the transformer module and its tests, and assembles transformer/target/gpu/ (about 55 MiB): a jlink'd
#       Java 17 runtime, the runtime jars (JCuda with its driver library only, Jackson, JavaCPP), the JUnit console
#       launcher, and the compiled classes. OpenBLAS is left out (too large to carry), so the CPU column of the
#       benchmark is the Vector API backend, fast(vector).
#   tools/cuda/gpu_check.sh run       (on the GPU machine; carry transformer/target/gpu)
#       prints nvidia-smi, checks the PTX headers against the sources, runs every test tagged gpu (failing, not
#       skipping, when CUDA is unavailable), runs CudaBench, and prints a summary. Writes logs to $OUT when set.
#
# e.g. with the device tool: run(command="bash tools/cuda/gpu_check.sh run", carry=["transformer/target/gpu"], timeout_s=540)
set -uo pipefail
cd "$(dirname "$0")/../.."
G=transformer/target/gpu
JUNIT_CONSOLE=org.junit.platform:junit-platform-console-standalone:1.14.4

prepare() {
    set -e
    mvn -q -pl transformer -am test-compile -DskipTests
    rm -rf "$G" && mkdir -p "$G/lib"
    mvn -q -pl transformer dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$PWD/$G/lib" \
        -DincludeArtifactIds=jcuda,jcuda-natives,jackson-databind,jackson-core,jackson-annotations,javacpp \
        -Dclassifier= -DexcludeClassifiers=android-arm64,android-x86_64,ios-arm64,ios-x86_64,linux-arm64,linux-ppc64le,linux-riscv64,macosx-arm64,macosx-x86_64,windows-arm64,windows-x86_64
    mvn -q dependency:copy -Dartifact="$JUNIT_CONSOLE" -DoutputDirectory="$PWD/$G/lib"
    # the natives jar carries NVRTC and nvPTXCompiler (24 MB) that the driver API does not need: keep libJCudaDriver only
    local nat; nat=$(readlink -f "$(ls "$G"/lib/jcuda-natives-*-linux-x86_64.jar)")
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && unzip -q "$nat" 'lib/libJCudaDriver-*' 'META-INF/*')
    rm -f "$nat" && (cd "$tmp" && zip -q -r "$nat" .) && rm -rf "$tmp"
    cp -r transformer/target/classes "$G/classes"
    cp -r transformer/target/test-classes "$G/test-classes"
    jlink --add-modules java.base,java.logging,java.xml,java.management,jdk.unsupported,jdk.incubator.vector \
        --strip-debug --no-header-files --no-man-pages --compress=2 --output "$G/jre" 2>/dev/null
    du -sh "$G"
    echo "prepared $G: carry it to the GPU machine and run: bash tools/cuda/gpu_check.sh run"
}

run() {
    [ -d "$G/lib" ] || { echo "gpu_check.sh: $G missing: run 'tools/cuda/gpu_check.sh prepare' first and carry $G" >&2; exit 2; }
    local out=${OUT:-/tmp/gpu_check}; mkdir -p "$out"
    local java="$G/jre/bin/java"
    local cp="$G/classes:$G/test-classes:$(ls "$G"/lib/*.jar | grep -v console-standalone | tr '\n' ':')"
    local flags="--add-modules=jdk.incubator.vector -Xmx32g -Dvaritune.cuda.require=true"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee "$out/nvidia-smi.txt"
    local status=0
    local console; console=$(ls "$G"/lib/junit-platform-console-standalone-*.jar)
    echo "== PTX freshness and host-side tests (kernels.cuda, not tagged gpu)"
    "$java" $flags -jar "$console" execute -cp "$cp" --select-package org.varitune.transformer.kernels.cuda \
        --exclude-tag gpu --disable-banner --details=summary 2>&1 | tee "$out/host-tests.txt" || status=1
    echo "== GPU parity tests (tag gpu)"
    "$java" $flags -jar "$console" execute -cp "$cp" \
        --include-tag gpu --select-package org.varitune.transformer --disable-banner --details=tree \
        --reports-dir "$out/junit" 2>&1 | tee "$out/gpu-tests.txt" || status=1
    echo "== CudaBench (encoder forward, batch 32 x seq 128)"
    "$java" $flags -cp "$cp" org.varitune.transformer.kernels.cuda.CudaBench 3 2>&1 | tee "$out/bench.txt" || status=1
    echo "== summary"
    grep -E 'tests (successful|failed|aborted)' "$out/gpu-tests.txt" | sed 's/^/gpu tests: /'
    grep -E '^(e5-small|bert-base)' "$out/bench.txt"
    [ $status -eq 0 ] && echo "gpu_check: OK" || echo "gpu_check: FAILED (see $out)"
    exit $status
}

case "${1:-}" in
    prepare) prepare ;;
    run) run ;;
    *) echo "usage: tools/cuda/gpu_check.sh prepare|run" >&2; exit 2 ;;
esac
