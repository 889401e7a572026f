package io.accrue.run;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * A destination of a run's per-step rows besides {@code metrics.jsonl} ({@link Run#logTo}): {@link CsvLogger},
 * {@link TensorBoardLogger}. The run calls {@link #open} before its first step, {@link #log} after each step's
 * {@code metrics.jsonl} line, and {@link #close} at the end, all on the thread that called {@link Run#execute}.
 */
public interface MetricsLogger extends Closeable {

    /**
     * Training starts.
     *
     * @param columns      the fields this run's rows may hold, in order ({@link MetricsSchema#columns})
     * @param resumedAfter the optimizer step (1-based) a resumed run continues after, whose later rows a killed
     *                     process may have logged and the new ones replace; -1 for a fresh run
     */
    void open(List<String> columns, long resumedAfter) throws IOException;

    /** One optimizer step's row ({@link MetricsSchema}), non-finite values as they are. */
    void log(Map<String, Object> row) throws IOException;
}
