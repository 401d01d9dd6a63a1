#!/usr/bin/env bash
# Builds the self-contained archive target/vellama-VERSION-linux-ARCH.tar.gz, which runs without a JDK:
#   vellama-VERSION/bin/vellama       the launcher (src/main/sh/vellama): the archive's own runtime, nothing else
#   vellama-VERSION/runtime/          a Java runtime made by jlink from the building JDK, with only the modules below
#   vellama-VERSION/lib/vellama.jar   the application (cli's shaded jar)
#   vellama-VERSION/lib/vellama.aot   the JDK's AOT cache from one short run of a small model with this runtime
# Usage: build-archive.sh JDK_HOME APP_JAR VERSION TARGET_DIR MODELS_DIR LICENSE
# Without a model in MODELS_DIR (or $VELLAMA_AOT_MODEL) the archive has no AOT cache and starts slower.
set -euo pipefail
jdk=$1 jar=$2 version=$3 target=$4 models=$5 licence=$6
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=aarch64 ;;
  *) arch=$(uname -m) ;;
esac
# What the shaded jar needs at run time: jdeps --print-module-deps, less java.desktop, java.sql and java.xml, which only
# Jackson's optional handlers (java.beans, java.sql and DOM types) and JLine's console engine (unused) refer to; see
# docs/decisions.md
modules=java.base,java.logging,java.management,java.net.http,jdk.incubator.vector
name=vellama-$version
work=$target/archive
stage=$work/$name
archive=$target/$name-linux-$arch.tar.gz
rm -rf "$work" "$archive"
mkdir -p "$stage/bin" "$stage/lib"

# Uncompressed modules (zip-0): gzip packs them better than it packs jlink's own zip, so the download is smaller,
# and classes load without inflating.
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=zip-0 \
    --output "$stage/runtime" 2>&1 | { grep -v '^WARNING: Using incubator modules' || true; }
cp "$jar" "$stage/lib/vellama.jar"
cp "$here/vellama" "$stage/bin/vellama"
chmod 755 "$stage/bin/vellama"
cp "$licence" "$stage/LICENSE"

# The AOT cache is recorded through the archive's own launcher, so it holds this runtime's modules file and the
# jar at their absolute paths here. The JVM matches them by the prefix they share (the archive's directory), so the
# cache stays valid wherever the archive is unpacked, as long as tar keeps the files' times (it does by default).
model=${VELLAMA_AOT_MODEL:-}
if [ -z "$model" ]; then
  for m in tiny-llama3-q8_0.gguf stories-llama2-q8_0.gguf; do
    if [ -f "$models/$m" ]; then model="$models/$m"; break; fi
  done
fi
if [ -n "$model" ] && [ -f "$model" ]; then
  if VELLAMA_JAVA_OPTS="-XX:AOTCacheOutput=$stage/lib/vellama.aot -Xlog:aot=off -Xlog:cds=off" \
      "$stage/bin/vellama" run -m "$model" -p "Once upon a time" -n 8 --temp 0 >"$work/aot-training.log" 2>&1 \
      && [ -f "$stage/lib/vellama.aot" ]; then
    echo "vellama archive: AOT cache recorded with $(basename "$model")"
  else
    rm -f "$stage/lib/vellama.aot"
    echo "vellama archive: recording the AOT cache failed (see $work/aot-training.log); the archive has none"
  fi
else
  echo "vellama archive: no model to record an AOT cache with (set VELLAMA_AOT_MODEL); the archive has none"
fi
rm -f "$stage/lib/vellama.aot.config"

tar -C "$work" --owner=0 --group=0 --numeric-owner --sort=name -czf "$archive" "$name"
echo "vellama archive: $archive ($(( $(stat -c %s "$archive") / 1048576 )) MiB; unpacked $(du -sm "$stage" | cut -f1) MiB)"
