# Sourced by the accrue launcher (after scripts/jdk.sh): `launch HEAP WHOSE JAVA_ARGS...` replaces the shell by the
# JVM with the heap -XmxHEAP and ACCRUE_JVM_OPTS. A heap the machine cannot reserve (ulimit -v,
# vm.overcommit_memory=2, a small machine) would fail in the JVM's start with two lines of its own: a probe JVM of
# that heap finds it first, and the launcher says so in one line with the figure, exit 3. WHOSE says where the heap
# comes from, for that line: "the memory plan of this run", "set by ACCRUE_HEAP". A JVM that dies of a native memory
# shortage writes its report file to $TMPDIR, never into the working (or run) directory.

# The JVM announces the incubator module on every start; drop that line so errors stay one line. The filter ignores
# Ctrl-C, which goes to the whole process group: it must outlive java, which prints where it stopped after it.
accrue_stderr() {
  trap '' INT
  grep -v --line-buffered '^WARNING: Using incubator modules' >&2
}

launch() {
  local heap="$1" whose="$2"
  shift 2
  local probe errors="${TMPDIR:-/tmp}/accrue-jvm-%p.log"
  if ! probe="$(java -Xmx"$heap" -XX:ErrorFile="$errors" -Xshare:auto -XX:TieredStopAtLevel=1 -version 2>&1)" \
      && grep -qE 'reserve enough space|Could not allocate|insufficient memory' <<<"$probe"; then
    echo "accrue: cannot reserve the Java heap of $heap (-Xmx$heap, $whose): this machine or its limits (ulimit -v," \
      "vm.overcommit_memory) allow less; free memory or raise the limit, or plan a smaller run (--memory SIZE, a" \
      "smaller --micro-batch, --checkpointing)" >&2
    exit 3
  fi
  exec java "${ACCRUE_JVM_OPTS[@]}" -XX:ErrorFile="$errors" -Xmx"$heap" "$@" 2> >(accrue_stderr)
}
