/**
 * The {@code accrue} command: {@code train} (a GPT on a generated addition task or on any text file, with exact
 * gradient accumulation, metrics, checkpoints and a report) and {@code sample} (text from a checkpoint). Bad input
 * is reported as one line on stderr with exit code 2.
 */
package io.accrue.cli;
