package io.accrue.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What this JVM tells the {@code accrue} launcher ({@code scripts/launch.sh}), which waits for it: the running
 * command's memory plan and run directory, in a status file of {@code KEY=VALUE} lines ({@code -Daccrue.status}), so
 * that a JVM the kernel's out-of-memory killer ends, or one that runs out of native memory, still gets one line with
 * the plan's figure and where to resume; and a watch on the launcher ({@code -Daccrue.launcher=PID}): killed itself
 * (SIGKILL reaches only the process it is sent to), it can no longer pass signals on, so the JVM stops at once, as it
 * did when the launcher was the JVM. Without those properties (the JVM started by hand, tests) both do nothing.
 */
final class LauncherLink {
    static final String STATUS_PROPERTY = "accrue.status";
    static final String LAUNCHER_PROPERTY = "accrue.launcher";
    /** Exit code when the launcher is gone: what a SIGKILL of the launcher, which used to be the JVM, gave. */
    static final int LAUNCHER_GONE = 137;

    private static final Map<String, String> STATUS = new LinkedHashMap<>();

    private LauncherLink() {
    }

    /** Records {@code key} (plan, run) for the launcher; a status file that cannot be written is only a lost hint. */
    static synchronized void tell(String key, String value) {
        String file = System.getProperty(STATUS_PROPERTY);
        if (file == null) {
            return;
        }
        STATUS.put(key, value.replace('\n', ' '));
        StringBuilder text = new StringBuilder();
        STATUS.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Path target = Path.of(file);
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the launcher then reports without the hint
            }
        }
    }

    /** Starts the watch on the launcher when there is one: a daemon thread that halts the JVM once it is gone. */
    static void watchLauncher() {
        String pid = System.getProperty(LAUNCHER_PROPERTY);
        if (pid == null) {
            return;
        }
        ProcessHandle launcher;
        try {
            launcher = ProcessHandle.of(Long.parseLong(pid)).orElse(null);
        } catch (NumberFormatException e) {
            return;
        }
        if (launcher == null) {
            Runtime.getRuntime().halt(LAUNCHER_GONE);
        }
        Thread watch = Thread.ofPlatform().daemon().name("accrue-launcher-watch").unstarted(() -> {
            try {
                launcher.onExit().join();
            } finally {
                Runtime.getRuntime().halt(LAUNCHER_GONE);
            }
        });
        watch.start();
    }
}
