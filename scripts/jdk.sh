# Sourced by the project's scripts: sets JAVA_HOME to a JDK 25 or newer, or exits with a clear message.
# Order: $JAVA_HOME if it is 25+, then `java` on PATH if 25+, then JDKs installed under /usr/lib/jvm and
# /opt (newest first).
accrue_java_major() {
  # small reservations, so that an address-space limit (ulimit -v) is reported by the launcher, not taken for no JDK
  "$1/bin/java" -Xmx16m -XX:CompressedClassSpaceSize=16m -XX:ReservedCodeCacheSize=16m \
    -XX:ErrorFile="${TMPDIR:-/tmp}/accrue-jvm-%p.log" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java.specification.version = //p' | head -n1
}
accrue_find_jdk() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  local d
  for d in $(ls -d /usr/lib/jvm/* /opt/*jdk* /opt/java/* 2>/dev/null | sort -rV); do candidates+=("$d"); done
  for d in "${candidates[@]}"; do
    if [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ]; then
      local major; major=$(accrue_java_major "$d")
      if [ -n "$major" ] && [ "${major%%.*}" -ge 25 ] 2>/dev/null; then
        echo "$d"; return 0
      fi
    fi
  done
  return 1
}
if ! JAVA_HOME=$(accrue_find_jdk); then
  echo "accrue: no JDK 25 or newer found (checked \$JAVA_HOME, java on PATH, /usr/lib/jvm, /opt)." >&2
  echo "accrue: install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
  exit 2
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"

# The JVM settings of every Accrue process (the launcher, benchmarks, memory figures), so that what is measured
# is what users run: the Vector API, ParallelGC (no concurrent GC threads on a 2-core machine) and a 32 MB young
# generation (the step loop allocates almost nothing once compiled; MemoryPlanner.YOUNG_BYTES assumes 32 MB), and
# objects on 64-byte cache lines, so that GEMM's packed panels can start on one (io.accrue.tensor.CacheLines).
ACCRUE_JVM_OPTS=(--add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmn32m -XX:ObjectAlignmentInBytes=64)
