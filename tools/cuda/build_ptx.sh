#!/usr/bin/env bash
# Compiles every transformer/src/main/cuda/*.cu to portable PTX (compute_80; the driver JITs it for the GPU it runs on,
# e.g. sm_90 on H100/H200) under transformer/src/main/resources/org/varitune/transformer/kernels/cuda/, one .ptx per .cu.
# Line 1 of each .ptx is a header that PtxFreshnessTest checks against the source:
#   // varitune-ptx source=<name>.cu sha256=<hex of the .cu bytes> nvcc=<nvcc release> arch=compute_80
# Deterministic: the same source and nvcc give the same bytes. PTX files whose .cu is gone are removed.
# Usage: tools/cuda/build_ptx.sh            (needs nvcc on PATH or NVCC=/path/to/nvcc; no GPU needed)
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=transformer/src/main/cuda
OUT=transformer/src/main/resources/org/varitune/transformer/kernels/cuda
ARCH=compute_80
NVCC=${NVCC:-nvcc}
command -v "$NVCC" >/dev/null || { echo "build_ptx.sh: nvcc not found (set NVCC=...)" >&2; exit 2; }
VERSION=$("$NVCC" --version | sed -n 's/^Cuda compilation tools, \(.*\)$/\1/p' | tr -d ',' | tr ' ' '_')
[ -n "$VERSION" ] || { echo "build_ptx.sh: cannot read the nvcc version from '$NVCC --version'" >&2; exit 2; }
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shopt -s nullglob
for cu in "$SRC"/*.cu; do
    name=$(basename "$cu" .cu)
    sha=$(sha256sum "$cu" | cut -d' ' -f1)
    # -lineinfo off, no -G: the PTX carries no paths; compile in the source dir so no absolute path leaks in
    (cd "$SRC" && "$NVCC" -ptx -arch="$ARCH" -std=c++17 -o "$tmp/$name.body" "$name.cu")
    { echo "// varitune-ptx source=$name.cu sha256=$sha nvcc=$VERSION arch=$ARCH"; cat "$tmp/$name.body"; } > "$OUT/.$name.ptx.tmp"
    mv -f "$OUT/.$name.ptx.tmp" "$OUT/$name.ptx"
    echo "$OUT/$name.ptx"
done
for ptx in "$OUT"/*.ptx; do
    name=$(basename "$ptx" .ptx)
    [ -f "$SRC/$name.cu" ] || { rm -f "$ptx"; echo "removed stale $ptx"; }
done
