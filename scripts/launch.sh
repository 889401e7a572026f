# Sourced by the accrue launcher (after scripts/jdk.sh): `launch HEAP WHOSE JAVA_ARGS...` runs the JVM with the heap
# -XmxHEAP and ACCRUE_JVM_OPTS, waits for it and exits with its code. WHOSE says where the heap comes from, for the
# one-line messages: "the memory plan of this run", "set by ACCRUE_HEAP".
#
# Why it waits instead of exec-ing java: the two ways memory runs out that the JVM itself cannot report — the
# kernel's out-of-memory killer (SIGKILL) and native memory the JVM cannot get (a fatal error, which HotSpot reports
# in a block of '#' lines on stdout) — become one line here, with the plan's figure and where the run can resume
# (the JVM writes both to a status file, -Daccrue.status). HotSpot's block is suppressed (ACCRUE_DEBUG=1 keeps it
# and its report file, which goes to $TMPDIR, never into the working or run directory).
#
# A heap the machine cannot reserve (ulimit -v, vm.overcommit_memory=2, a small machine) would fail in the JVM's
# start with two lines of its own: a probe JVM of that heap finds it first, and the launcher says so in one line
# with the figure, exit 3.

# The JVM announces the incubator module on every start; drop that line so errors stay one line. The filter ignores
# the signals that stop a run (Ctrl-C, or SIGTERM and SIGHUP sent to the whole process group): it must outlive java,
# which prints where it stopped after them; it ends when java's stderr closes.
accrue_stderr() {
  trap '' INT TERM HUP
  grep -v --line-buffered '^WARNING: Using incubator modules' >&2
}

# The status file's value of KEY (a line KEY=VALUE), or nothing.
accrue_status() {
  sed -n "s/^$2=//p" "$1" 2>/dev/null | tail -n 1
}

# The kernel's count of processes its out-of-memory killer ended (0 where /proc/vmstat does not say).
accrue_oom_kills() {
  awk '$1 == "oom_kill" { n = $2 } END { print n + 0 }' /proc/vmstat 2>/dev/null || echo 0
}

# What a run that memory stopped can do next: resume from its newest checkpoint, or start again.
accrue_next() {
  local run; run="$(accrue_status "$1" run)"
  if [ -z "$run" ]; then
    return
  fi
  if [ -f "$run/checkpoint/checkpoint.json" ]; then
    printf '; the newest complete checkpoint is intact: resume with accrue train --resume %s' "$run"
  else
    printf '; no checkpoint had been written yet: start the run again'
  fi
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
  if ! env --default-signal=INT true 2>/dev/null; then
    # coreutils before 8.31 (or not GNU): without a way to give the JVM its Ctrl-C back, run it in this shell's
    # place as before; memory running out is then the JVM's own report
    exec java "${ACCRUE_JVM_OPTS[@]}" -XX:ErrorFile="$errors" -Xmx"$heap" "$@" 2> >(accrue_stderr)
  fi
  local status fatal=(-XX:+SuppressFatalErrorMessage)
  status="$(mktemp "${TMPDIR:-/tmp}/accrue-status.XXXXXX")"
  if [ -n "${ACCRUE_DEBUG:-}" ]; then
    fatal=()
  else
    ulimit -c 0 # a JVM that aborts leaves no core file in the run's directory
  fi
  local kills_before; kills_before="$(accrue_oom_kills)"
  # An asynchronous command of a non-interactive shell starts with SIGINT ignored, and the JVM would keep it so
  # (no Ctrl-C handler): env gives it back its default. The JVM stops on its own when this shell is killed.
  env --default-signal=INT,QUIT java "${ACCRUE_JVM_OPTS[@]}" -XX:ErrorFile="$errors" \
    -XX:ReplayDataFile="${TMPDIR:-/tmp}/accrue-jvm-replay-%p.log" "${fatal[@]}" \
    -Daccrue.status="$status" -Daccrue.launcher=$$ -Xmx"$heap" "$@" 2> >(accrue_stderr) &
  local pid=$! rc
  set +e
  # A signal for this shell is passed on; one the whole process group got (Ctrl-C, a hang-up) reaches the JVM twice
  # within milliseconds, which it counts as one.
  trap 'kill -INT "$pid" 2>/dev/null' INT
  trap 'kill -TERM "$pid" 2>/dev/null' TERM
  trap 'kill -HUP "$pid" 2>/dev/null' HUP
  while :; do
    { wait "$pid"; } 2>/dev/null # no "Killed" line from bash: the line below says what happened
    rc=$?
    if [ "$rc" -gt 128 ] && kill -0 "$pid" 2>/dev/null; then
      continue # the wait was interrupted by a signal passed on; the JVM is still stopping
    fi
    break
  done
  trap - INT TERM HUP
  local plan; plan="$(accrue_status "$status" plan)"
  plan="${plan:-a heap of $heap ($whose)}"
  local smaller="free memory or plan a smaller run (--memory SIZE, --checkpointing, a smaller --micro-batch)"
  if [ "$rc" -eq 137 ]; then
    if [ "$(accrue_oom_kills)" -gt "$kills_before" ]; then
      echo "accrue: the kernel's out-of-memory killer stopped the JVM (SIGKILL): memory ran short (the machine's, or" \
        "its cgroup's limit) while this run needed $plan (another process may have taken it); $smaller$(accrue_next \
        "$status")" >&2
      rc=3
    else
      echo "accrue: the JVM was killed by SIGKILL (kill -9, or the kernel's out-of-memory killer: this run needed" \
        "$plan; dmesg says which)$(accrue_next "$status")" >&2
    fi
  elif { [ "$rc" -eq 1 ] || [ "$rc" -eq 134 ]; } && [ -z "$(accrue_status "$status" exit)" ]; then
    # the JVM ended without its command's exit: HotSpot's fatal-error exit, which native memory running out takes
    local report="ACCRUE_DEBUG=1 keeps the JVM's own report"
    [ "${#fatal[@]}" -eq 0 ] && report="the JVM's own report is above"
    echo "accrue: the JVM stopped on a fatal error, most likely native memory running out: the machine has less free" \
      "memory than this run needs ($plan; another process may have taken it); $smaller$(accrue_next \
      "$status"); $report" >&2
    rc=3
  fi
  rm -f "$status"
  exit "$rc"
}
