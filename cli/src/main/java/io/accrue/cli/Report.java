package io.accrue.cli;

import io.accrue.run.RunResult;
import io.accrue.run.RunResult.Eval;
import io.accrue.train.AtomicFiles;
import io.accrue.train.Json;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A self-contained {@code report.html} (no network: the charts are embedded PNGs): the resolved config, the
 * results, the evaluations, and charts drawn with JFreeChart from the run's {@code metrics.jsonl} — so a resumed run's
 * report covers every step — with axes, ticks and labels: training and validation loss together on a log scale,
 * learning rate, gradient norm, throughput and memory over the optimizer step, and an accuracy per evaluation.
 */
final class Report {
    private static final int W = 760;
    private static final int H = 300;
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
        new Color(0xd62728)};

    private Report() {
    }

    /** The report of {@code run}, written into its run directory. */
    static Path write(RunResult run) throws IOException {
        Path dir = run.spec().out();
        return write(dir, run.settings(), run.results(), readRows(dir.resolve("metrics.jsonl")), run.evals());
    }

    static Path write(Path dir, Map<String, String> config, Map<String, Object> results, List<Map<?, ?>> rows,
                      List<Eval> evals) throws IOException {
        StringBuilder html = new StringBuilder("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                + "<title>accrue train report</title><style>body{font-family:sans-serif;margin:2em;max-width:60em}"
                + "td,th{padding:2px 10px;text-align:left}th{color:#555;font-weight:normal}</style></head><body>\n"
                + "<h1>accrue train</h1>\n");
        if (!rows.isEmpty()) {
            html.append("<h2>Loss</h2>\n").append(img(lossChart(rows)));
        }
        if (!evals.isEmpty()) {
            evaluations(html, evals);
        }
        if (!rows.isEmpty()) {
            String rate = rows.getFirst().containsKey("images_per_s") ? "images_per_s" : "tokens_per_s";
            html.append("<h2>Learning rate</h2>\n").append(img(chart(rows, "learning rate", false,
                    new Line("learning_rate", "learning_rate", 1))));
            html.append("<h2>Gradient norm (before clipping)</h2>\n").append(img(chart(rows,
                    "gradient norm (log scale)", true, new Line("grad_norm", "grad_norm", 1))));
            html.append("<h2>Throughput</h2>\n").append(img(chart(rows, rate.replace("_per_s", "/s"), false,
                    new Line(rate, rate, 1))));
            html.append("<h2>Memory</h2>\n").append(img(chart(rows, "MiB", false,
                    new Line("memory_bytes", "training state (weights, gradients, optimizer, arena)", 1 << 20),
                    new Line("heap_used_bytes", "JVM heap in use", 1 << 20))));
        }
        html.append("<h2>Configuration</h2>\n<table>\n");
        config.forEach((k, v) -> row(html, k, v));
        html.append("</table>\n<h2>Results</h2>\n<table>\n");
        results.forEach((k, v) -> row(html, k, v instanceof Double d ? String.format(Locale.ROOT, "%.6g", d)
                : String.valueOf(v)));
        html.append("</table>\n</body></html>\n");
        Path f = dir.resolve("report.html");
        AtomicFiles.write(f, html.toString()); // a full disk leaves no half report
        return f;
    }

    /** The rows of a {@code metrics.jsonl}, none if it is missing. */
    static List<Map<?, ?>> readRows(Path file) throws IOException {
        List<Map<?, ?>> rows = new ArrayList<>();
        if (Files.isRegularFile(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                rows.add((Map<?, ?>) Json.parse(line));
            }
        }
        return rows;
    }

    /** The evaluations as a table and, from two on, a chart (the validation loss is on the loss chart instead). */
    private static void evaluations(StringBuilder html, List<Eval> evals) throws IOException {
        String metric = evals.getFirst().metric();
        boolean loss = metric.equals("val_loss");
        String title = loss ? "Validation loss (val_loss: mean per token on val.bin, nats)"
                : metric.replace('_', ' ') + " per epoch";
        html.append("<h2>").append(escape(title)).append("</h2>\n<table>\n")
                .append("<tr><th>epoch</th><th>step</th><th>").append(escape(metric)).append("</th></tr>\n");
        for (Eval e : evals) {
            html.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%d</td><td>%.4f</td></tr>%n", e.epoch(),
                    e.step(), e.value()));
        }
        html.append("</table>\n");
        if (!loss && evals.size() > 1) {
            XYSeries s = new XYSeries(metric);
            evals.forEach(e -> s.add(e.step(), e.value()));
            html.append(img(png(plot(new XYSeriesCollection(s), metric + " (fraction)", false, true))));
        }
    }

    /** A line: the {@code metrics.jsonl} field, its legend, the divisor of its values (bytes → MiB). */
    private record Line(String field, String legend, double scale) {
    }

    /** Training loss per step and the validation loss where it was measured, on a log scale. */
    private static byte[] lossChart(List<Map<?, ?>> rows) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection(series(rows, new Line("loss", "training loss", 1)));
        XYSeries val = series(rows, new Line("val_loss", "validation loss", 1));
        if (!val.isEmpty()) {
            data.addSeries(val);
        }
        return png(plot(data, "loss (nats, log scale)", true, val.getItemCount() > 0));
    }

    private static byte[] chart(List<Map<?, ?>> rows, String yLabel, boolean log, Line... lines) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Line l : lines) {
            data.addSeries(series(rows, l));
        }
        return png(plot(data, yLabel, log, false));
    }

    /** The finite (and, on a log scale, positive) values of one field over the step. */
    private static XYSeries series(List<Map<?, ?>> rows, Line line) {
        XYSeries s = new XYSeries(line.legend(), true, true);
        for (Map<?, ?> r : rows) {
            if (r.get(line.field()) instanceof Number v && r.get("step") instanceof Number step) {
                s.addOrUpdate(step.doubleValue(), v.doubleValue() / line.scale());
            }
        }
        return s;
    }

    /**
     * A chart of {@code data} over the optimizer step; the last series drawn with markers when {@code pointsLast}
     * (the evaluations, a few points among many steps).
     */
    private static JFreeChart plot(XYSeriesCollection data, String yLabel, boolean log, boolean pointsLast) {
        JFreeChart chart = ChartFactory.createXYLineChart(null, "optimizer step", yLabel, data,
                PlotOrientation.VERTICAL, data.getSeriesCount() > 1, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        ((NumberAxis) plot.getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        if (log) {
            plot.setRangeAxis(logAxis(yLabel, data));
        } else {
            ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        }
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            r.setSeriesPaint(i, COLORS[i % COLORS.length]);
            r.setSeriesStroke(i, new BasicStroke(1.5f));
        }
        if (pointsLast) {
            r.setSeriesShapesVisible(data.getSeriesCount() - 1, true);
        }
        plot.setRenderer(r);
        return chart;
    }

    /**
     * A log axis whose ticks suit the data's span: powers of 10 from three decades, powers of 2 from a factor of 8
     * (a loss from 8 to 0.1 gets 0.125, 0.25, …, 8), else JFreeChart's own, labelled with three significant digits.
     */
    private static LogAxis logAxis(String label, XYSeriesCollection data) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (int s = 0; s < data.getSeriesCount(); s++) {
            for (int i = 0; i < data.getItemCount(s); i++) {
                double y = data.getYValue(s, i);
                if (y > 0) {
                    lo = Math.min(lo, y);
                    hi = Math.max(hi, y);
                }
            }
        }
        LogAxis axis = new LogAxis(label);
        axis.setSmallestValue(1e-9);
        double span = hi / lo;
        if (span >= 8) {
            axis.setTickUnit(new NumberTickUnit(span >= 1e3 ? 1 : Math.log10(2)));
            axis.setAutoTickUnitSelection(false);
            axis.setNumberFormatOverride(new DecimalFormat("0.#####"));
        } else {
            int decimals = lo > 0 && Double.isFinite(lo) ? Math.max(0, 2 - (int) Math.floor(Math.log10(lo))) : 2;
            axis.setNumberFormatOverride(new DecimalFormat(decimals == 0 ? "0" : "0." + "#".repeat(decimals)));
        }
        return axis;
    }

    private static byte[] png(JFreeChart chart) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(bytes, chart, W, H);
        return bytes.toByteArray();
    }

    private static void row(StringBuilder html, String k, String v) {
        html.append("<tr><th>").append(escape(k)).append("</th><td>").append(escape(v)).append("</td></tr>\n");
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static String img(byte[] png) {
        return "<img alt=\"chart\" width=\"" + W + "\" height=\"" + H + "\" src=\"data:image/png;base64,"
                + Base64.getEncoder().encodeToString(png) + "\">\n";
    }
}
