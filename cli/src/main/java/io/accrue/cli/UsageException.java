package io.accrue.cli;

/** Bad input from the user: printed as one line naming the problem and the fix, exit code 2. */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
