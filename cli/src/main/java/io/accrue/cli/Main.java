package io.accrue.cli;

/** Entry point of the {@code accrue} command (subcommands arrive with the CLI issue). */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.out.println("accrue: no subcommands yet");
    }
}
