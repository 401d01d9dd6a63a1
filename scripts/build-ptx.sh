#!/usr/bin/env bash
# Compiles the CUDA kernels (runtime/src/main/cuda) into one PTX file whose first line records the SHA-256 of the
# sources it came from, so a test can tell when a committed PTX no longer matches them.
#   scripts/build-ptx.sh              regenerate the committed copy under runtime/src/main/resources
#   scripts/build-ptx.sh OUT.ptx      write elsewhere (the Maven build writes into target/classes)
# NVCC overrides the compiler (default: nvcc on PATH, else /usr/local/cuda/bin/nvcc).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src="$here/../runtime/src/main/cuda"
out="${1:-$here/../runtime/src/main/resources/dev/vellama/runtime/cuda/kernels.ptx}"
nvcc="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
# compute_80 PTX is JIT-compiled by the driver for Ampere, Hopper and newer
arch="${PTX_ARCH:-compute_80}"

# The hash the freshness test recomputes: for each .cu/.cuh file in byte order of its name, the name, a newline,
# then its bytes.
hash=$(cd "$src" && for f in $(LC_ALL=C ls | grep -E '\.(cu|cuh)$'); do printf '%s\n' "$f"; cat "$f"; done \
       | sha256sum | cut -d' ' -f1)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$src" && "$nvcc" -ptx -arch="$arch" -o "$tmp/kernels.ptx" kernels.cu)
mkdir -p "$(dirname "$out")"
{
    printf '// vellama-sources-sha256: %s\n' "$hash"
    cat "$tmp/kernels.ptx"
} > "$out"
