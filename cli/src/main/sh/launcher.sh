#!/usr/bin/env bash
# Vellama launcher: this shell stub is followed by the application jar in the same file.
# It finds JDK 25 or newer ($JAVA_HOME, then `java` on PATH, then /usr/lib/jvm) by reading the JDK's
# `release` file (no extra JVM start) and passes the JVM flags Vellama needs, so users never type them. Without
# one it says in one line which Java it found and points to the self-contained archive, which brings its own.
VELLAMA_FOUND="" # the first Java home seen that is too old, for the message when no JDK 25 is found
vellama_home_ok() { # $1 = a Java home; true when it holds Java 25 or newer
  [ -x "$1/bin/java" ] && [ -f "$1/release" ] || return 1
  local v
  v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")
  if [ -n "$v" ] && [ "$v" -ge 25 ]; then return 0; fi
  [ -n "$VELLAMA_FOUND" ] || VELLAMA_FOUND="Java ${v:-of unknown version} in $1"
  return 1
}
vellama_find_java() {
  if [ -n "${JAVA_HOME:-}" ] && vellama_home_ok "$JAVA_HOME"; then VELLAMA_JAVA="$JAVA_HOME/bin/java"; return 0; fi
  local home
  if command -v java >/dev/null 2>&1; then
    home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    if vellama_home_ok "$home"; then VELLAMA_JAVA="$home/bin/java"; return 0; fi
  fi
  for home in /usr/lib/jvm/*25* /usr/lib/jvm/* /opt/java/* /opt/jdk*; do
    if vellama_home_ok "$home"; then VELLAMA_JAVA="$home/bin/java"; return 0; fi
  done
  return 1
}
if ! vellama_find_java; then
  # one line: what was found, and the two ways out (the self-contained archive brings its own Java runtime)
  echo "vellama: needs Java 25 or newer (found ${VELLAMA_FOUND:-none in JAVA_HOME, on PATH or in /usr/lib/jvm}); use the self-contained vellama-@VELLAMA_VERSION@-linux-x64.tar.gz, which needs no Java (the build leaves it in dist/target), or install a JDK 25 and set JAVA_HOME" >&2
  exit 1
fi
# The jar is this file under its full path: an AOT cache (class data the build recorded in a training run, which
# starts the JVM faster) is only valid for the path it was made with. The JVM ignores a cache that does not match
# (moved file, other JDK) or is damaged; its messages about that are switched off.
VELLAMA_SELF=$(readlink -f "$0" 2>/dev/null || echo "$0")
VELLAMA_AOT=""
if [ -f "$VELLAMA_SELF.aot" ]; then
  VELLAMA_AOT="-XX:AOTCache=$VELLAMA_SELF.aot -Xlog:aot=off -Xlog:cds=off"
fi
# The JVM announces the incubating Vector API on every start; that line is noise to a CLI user, so stderr passes
# through a filter that drops just it (stdout and stdin stay connected to the terminal). The JVM replaces this
# shell (exec), so signals sent to the launcher's process (a service manager's TERM to `vellama serve`) reach it.
# The filter makes the JVM's stderr a pipe; it learns from VELLAMA_STDERR_TTY whether progress bars can be drawn.
if [ -t 2 ]; then export VELLAMA_STDERR_TTY=1; fi
# The trap limits keep C2 speculating on vector types after the JDK's shared Vector API methods have trapped a few
# times; at the defaults some processes compile the decode kernels without their vector instructions and decode at
# half speed after a prompt (docs/decisions.md, "C2's trap limits").
# shellcheck disable=SC2086 # VELLAMA_AOT and VELLAMA_JAVA_OPTS are lists of JVM options
exec "$VELLAMA_JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -XX:+UseParallelGC -Xmn32m -XX:TrimNativeHeapInterval=500 -XX:PerBytecodeTrapLimit=1000 -XX:PerMethodTrapLimit=100000 $VELLAMA_AOT ${VELLAMA_JAVA_OPTS:-} -jar "$VELLAMA_SELF" "$@" \
    2> >(sed -u '/^WARNING: Using incubator modules: jdk.incubator.vector$/d' >&2)
