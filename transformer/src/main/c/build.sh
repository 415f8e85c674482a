#!/bin/sh
# Builds libvaritune_gemm.so (see varitune_*.c) into the classes directory; run by `mvn compile` (transformer/pom.xml).
#   build.sh JAVA_HOME OUT_DIR
# Where it cannot build (not Linux x86_64, no gcc, no JDK headers) it writes OUT_DIR/libvaritune_gemm.skipped with the
# reason and exits 0: NativeGemm then says why it is unavailable and the GEMMs copy their operands instead.
set -eu
JH=$1
OUT=$2
SRC=$(dirname "$0")/varitune_gemm.c
mkdir -p "$OUT"
rm -f "$OUT/libvaritune_gemm.so" "$OUT/libvaritune_gemm.skipped"
skip() { echo "varitune_gemm not built: $1" > "$OUT/libvaritune_gemm.skipped"; echo "[varitune] varitune_gemm not built: $1" >&2; exit 0; }
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || skip "built only on Linux x86_64, this is $(uname -s)-$(uname -m)"
command -v gcc > /dev/null 2>&1 || skip "no gcc on PATH"
[ -f "$JH/include/jni.h" ] || skip "no JNI headers under $JH/include (a JRE, not a JDK?)"
gcc -O2 -std=c11 -ffp-contract=off -Wall -Wextra -Werror -shared -fPIC -I"$JH/include" -I"$JH/include/linux" -o "$OUT/libvaritune_gemm.so" "$SRC" "$(dirname "$0")/varitune_attention.c" "$(dirname "$0")/varitune_optim.c" "$(dirname "$0")/varitune_gelu.c" "$(dirname "$0")/varitune_dropout.c"
