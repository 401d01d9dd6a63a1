#!/usr/bin/env bash
# Records an AOT cache for the launcher ($1, e.g. ./vellama): one short generation with a small model, run under
# -XX:AOTCacheOutput, leaves $1.aot, which the launcher then passes to the JVM (classes come loaded and linked,
# so the first token comes sooner). Needs a model: $VELLAMA_AOT_MODEL, else a small one from ../shared/models.
# Never fails the build: without a model or on any error it leaves no cache, and vellama runs without one.
launcher=$(readlink -f "$1")
shared=$(dirname "$(dirname "$launcher")")/shared/models
model=${VELLAMA_AOT_MODEL:-}
if [ -z "$model" ]; then
  for m in tiny-llama3-q8_0.gguf stories-llama2-q8_0.gguf; do
    if [ -f "$shared/$m" ]; then model="$shared/$m"; break; fi
  done
fi
rm -f "$launcher.aot"
if [ -z "$model" ] || [ ! -f "$model" ]; then
  echo "vellama: no model to record an AOT cache with (set VELLAMA_AOT_MODEL); the launcher starts without one"
  exit 0
fi
log=$(dirname "$launcher")/cli/target/aot-training.log
if VELLAMA_JAVA_OPTS="-XX:AOTCacheOutput=$launcher.aot -Xlog:aot=off -Xlog:cds=off" \
    "$launcher" run -m "$model" -p "Once upon a time" -n 8 --temp 0 >"$log" 2>&1 && [ -f "$launcher.aot" ]; then
  echo "vellama: AOT cache recorded with $(basename "$model") ($launcher.aot)"
else
  rm -f "$launcher.aot"
  echo "vellama: recording an AOT cache failed (see $log); the launcher starts without one"
fi
exit 0
