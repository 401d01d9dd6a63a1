#!/usr/bin/env bash
# Builds the benchmarks and measures what docs/performance.md reports: memory bandwidth, matvec at the
# Llama-3.2-1B shapes plus one L2-resident shape, matmul and one head's attention, each summarized as mean and
# best iteration.
# Short runs (1 fork, 2 warm-up + 4 measured 1 s iterations): the machine is shared.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
java_bin="$("$root/scripts/find-jdk25")/bin/java"
out=${1:-/tmp/vellama-bench}
mkdir -p "$out"
scripts/mvn25 -q -pl bench -am package -DskipTests
run() {
    local name=$1; shift
    uptime > "$out/$name.load"
    "$java_bin" -Djmh.ignoreLock=true --add-modules jdk.incubator.vector -jar bench/target/benchmarks.jar \
        -wi 2 -i 4 -w 1 -r 1 -rf json -rff "$out/$name.json" "$@" > "$out/$name.log" 2>&1
    uptime >> "$out/$name.load"
    echo "## $name ($(tr '\n' ' ' < "$out/$name.load"))"
    python3 bench/scripts/summarize.py "$out/$name.json"
}
run bandwidth MemoryBandwidthBenchmark
run matvec MatvecBenchmark -p shape=256x2048,2048x2048,8192x2048,2048x8192,128256x2048 -p threads=1,2
run matmul MatmulBenchmark -p threads=1,2
run attention AttentionBenchmark -p impl=vector
