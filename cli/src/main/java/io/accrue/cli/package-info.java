/**
 * The {@code accrue} command: {@code train} (a GPT on a generated addition task or on any text file, with exact
 * gradient accumulation, a progress bar or plain lines, metrics with memory accounting, checkpoints and a report),
 * {@code sample} (text from a checkpoint) and {@code bench} (training throughput as one JSON line). Bad input is
 * reported as one line on stderr with exit code 2.
 */
package io.accrue.cli;
