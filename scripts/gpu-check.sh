#!/usr/bin/env bash
# Packs everything the CUDA checks need on a GPU machine that has a driver but no JDK, Maven or network:
#   target/gpu-bundle.tar.xz = a jlink'ed JDK 25 runtime image, the jars with the runtime's test classes,
#   the `vellama` binary, the kernel sources (for the freshness and nvcc tests), the shared models named in
#   MODELS and their golden files.
# Usage: scripts/gpu-check.sh        (MODELS="a.gguf b.gguf" to choose models; the bundle must stay <= 64 MiB)
# There:  tar xJf gpu-bundle.tar.xz -C /tmp && /tmp/gpu-bundle/run.sh --require-gpu --bench
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
models=${MODELS:-stories-llama2-q8_0.gguf tiny-llama3-q8_0.gguf}
shared=${VELLAMA_TESTDATA:-$root/../shared}
out=$root/target/gpu-bundle
java_home=$("$root/scripts/find-jdk25")

# jars of gguf, quant and runtime (tests compiled, not run) and the runtime's test classpath. Maven runs online
# (a fresh machine fetches the plugins, pinned in the root pom, once); OFFLINE=1 forbids downloads.
offline=${OFFLINE:+-o}
scripts/mvn25 -q $offline package -DskipTests -pl cli -am   # ./vellama
scripts/mvn25 -q $offline -pl runtime -am package dependency:build-classpath -DskipTests \
    -Dmdep.includeScope=test -Dmdep.outputFile="$root/target/gpu-classpath.txt"

rm -rf "$out" "$out.tar.gz" "$out.tar.xz"
mkdir -p "$out/lib" "$out/models" "$out/golden" "$out/src/main"
# uncompressed modules and stripped native libraries: xz then packs the image into about 13 MiB (half of zip-9)
"$java_home/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.zipfs,jdk.incubator.vector \
    --strip-debug --no-man-pages --no-header-files --compress zip-0 \
    --strip-native-debug-symbols=objcopy="$(command -v objcopy)" --output "$out/jdk" 2>/dev/null
tr ':' '\n' < "$root/target/gpu-classpath.txt" | while read -r entry; do
    [ -z "$entry" ] && continue
    if [ -d "$entry" ]; then
        # a reactor module's classes folder: take its jar instead
        jar=$(ls "$(dirname "$entry")"/*.jar | grep -v -e sources -e javadoc | grep "$([ "$(basename "$entry")" = test-classes ] && echo tests || echo -v tests)" | head -1)
        cp "$jar" "$out/lib/"
    else
        cp "$entry" "$out/lib/"
    fi
done
cp runtime/target/vellama-runtime-*[0-9T].jar "$out/lib/"
# build-classpath leaves out the JUnit engine (a runtime dependency of junit-jupiter); take the matching one
junit=$(ls "$out"/lib/junit-jupiter-api-*.jar | sed 's/.*junit-jupiter-api-\(.*\)\.jar/\1/')
cp "${M2_REPO:-$HOME/.m2/repository}/org/junit/jupiter/junit-jupiter-engine/$junit/junit-jupiter-engine-$junit.jar" "$out/lib/"
"$java_home/bin/jar" --create --file "$out/lib/vellama-runtime-tests.jar" -C runtime/target/test-classes .
cp -r runtime/src/main/cuda "$out/src/main/cuda"
mkdir -p "$out/src/test"
cp -r runtime/src/test/cuda "$out/src/test/cuda"
mkdir -p "$out/src/main/resources/dev/vellama/runtime/cuda"
cp runtime/src/main/resources/dev/vellama/runtime/cuda/kernels.ptx "$out/src/main/resources/dev/vellama/runtime/cuda/"
cp vellama "$out/vellama"
for m in $models; do
    cp "$shared/models/$m" "$out/models/"
    golden="$shared/golden/${m%.gguf}.json"
    if [ -f "$golden" ]; then cp "$golden" "$out/golden/"; fi
done
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the CUDA checks (dev.vellama.runtime.cuda.GpuCheck) from this bundle. Options: --require-gpu, --bench.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
exec "$here/jdk/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -XX:PerBytecodeTrapLimit=1000 -XX:PerMethodTrapLimit=100000 -Dvellama.testdata="$here" -cp "$here/lib/*" dev.vellama.runtime.cuda.GpuCheck "$@"
RUN
chmod +x "$out/run.sh"
tar cf - -C "$root/target" gpu-bundle | xz -6 -T0 > "$out.tar.xz"
size=$(stat -c %s "$out.tar.xz")
echo "target/gpu-bundle.tar.xz: $((size / 1048576)) MiB"
if [ "$size" -gt $((64 * 1048576)) ]; then
    echo "the bundle is over 64 MiB: name fewer MODELS" >&2
    exit 1
fi
echo "on the GPU machine: tar xJf gpu-bundle.tar.xz -C /tmp && /tmp/gpu-bundle/run.sh --require-gpu --bench"
