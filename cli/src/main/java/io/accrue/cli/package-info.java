/**
 * The {@code accrue} command: {@code prepare} (text files → token shards, GPT-2's tokenizer through jtokkit:
 * {@link io.accrue.cli.Gpt2Tokenizer}), {@code train} (a GPT on a generated addition task, a text file or prepared
 * shards, with exact gradient accumulation, a progress bar or plain lines, metrics with memory accounting, a
 * validation loss, checkpoints and a report), {@code sample} (text from a checkpoint, through the run's tokenizer),
 * {@code plan} and {@code bench} (training throughput as one JSON line). Bad input is reported as one line on
 * stderr with exit code 2.
 */
package io.accrue.cli;
