#!/usr/bin/env bash
# Aggregate generation speed of `vellama serve` (and, when LLAMA_SERVER names a llama-server binary, of llama-server
# on the same file, threads and settings) for 1, 2, 4 and 8 concurrent clients, each server started with -np equal
# to the clients and 512 context positions per slot. Loopback only; every phase has a fixed request count.
#   bench/scripts/server-load.sh MODEL.gguf [THREADS] [MAX_TOKENS] [REQUESTS_PER_CLIENT]
# CLIENTS="4 8" runs only those client counts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
model=${1:?usage: server-load.sh MODEL.gguf [THREADS] [MAX_TOKENS] [REQUESTS]}
threads=${2:-2}
max_tokens=${3:-64}
requests=${4:-2}
port=18233 # each phase takes the next port: a stopped server's port may linger
java="$(scripts/find-jdk25)/bin/java"

wait_ready() {
  for _ in $(seq 1 300); do
    if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "server did not become ready" >&2
  return 1
}

run_phase() { # name, clients, command...
  local name=$1 clients=$2; shift 2
  port=$((port + 1))
  "$@" --port "$port" >/tmp/server-load-$name-$clients.log 2>&1 &
  local pid=$!
  wait_ready
  echo "== $name, -np $clients"
  "$java" -cp bench/target/benchmarks.jar dev.vellama.bench.ServerLoadBench --url "http://127.0.0.1:$port" \
    --clients "$clients" --requests "$requests" --max-tokens "$max_tokens" | tail -1
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

for c in ${CLIENTS:-1 2 4 8}; do
  run_phase vellama "$c" ./vellama serve -m "$model" -np "$c" -c $((512 * c)) -t "$threads"
  if [ -n "${LLAMA_SERVER:-}" ]; then
    run_phase llama-server "$c" "$LLAMA_SERVER" -m "$model" -np "$c" -c $((512 * c)) -t "$threads"
  fi
done
