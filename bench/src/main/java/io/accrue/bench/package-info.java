/** Benchmarks: kernel and end-to-end throughput, reported with the PyTorch reference's JSON fields. */
package io.accrue.bench;
