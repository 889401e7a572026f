package io.accrue.cli;

import io.accrue.run.RunResult;
import io.accrue.run.RunResult.Eval;
import io.accrue.train.AtomicFiles;
import io.accrue.train.StepMetrics;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * A self-contained {@code report.html}: the resolved config, the results, the evaluations (test accuracy, held-out
 * exact match or the validation loss: a table and, from two on, a line plot), loss and throughput as embedded PNGs.
 */
final class Report {
    private static final int W = 720;
    private static final int H = 300;

    private Report() {
    }

    /** The report of {@code run}, written into its run directory. */
    static Path write(RunResult run) throws IOException {
        return write(run.spec().out(), run.settings(), run.results(), run.history(), run.evals(),
                run.unit().equals("tok") ? "examples/s" : "images/s");
    }

    static Path write(Path dir, Map<String, String> config, Map<String, Object> results, List<StepMetrics> steps,
                      List<Eval> evals, String rateLabel) throws IOException {
        StringBuilder html = new StringBuilder("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                + "<title>accrue train report</title><style>body{font-family:sans-serif;margin:2em;max-width:60em}"
                + "td,th{padding:2px 10px;text-align:left}th{color:#555;font-weight:normal}</style></head><body>\n"
                + "<h1>accrue train</h1>\n<h2>Configuration</h2>\n<table>\n");
        config.forEach((k, v) -> row(html, k, v));
        html.append("</table>\n<h2>Results</h2>\n<table>\n");
        results.forEach((k, v) -> row(html, k, v instanceof Double d ? String.format(Locale.ROOT, "%.6g", d)
                : String.valueOf(v)));
        html.append("</table>\n");
        if (!evals.isEmpty()) {
            String metric = evals.getFirst().metric();
            String title = metric.equals("val_loss") ? "validation loss (val_loss: mean per token on val.bin, nats)"
                    : metric.replace('_', ' ') + " per epoch";
            html.append("<h2>").append(escape(title)).append("</h2>\n<table>\n")
                    .append("<tr><th>epoch</th><th>step</th><th>").append(escape(metric)).append("</th></tr>\n");
            for (Eval e : evals) {
                html.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%d</td><td>%.4f</td></tr>%n", e.epoch(),
                        e.step(), e.value()));
            }
            html.append("</table>\n");
            if (evals.size() > 1) {
                long[] x = evals.stream().mapToLong(Eval::step).toArray();
                double[] y = evals.stream().mapToDouble(Eval::value).toArray();
                html.append(img(plot(x, y, metric, new Color(0x2ca02c))));
            }
        }
        if (!steps.isEmpty()) {
            html.append("<h2>Loss per optimizer step</h2>\n").append(img(plot(steps, StepMetrics::loss, "loss",
                    new Color(0x1f77b4))));
            html.append("<h2>Throughput</h2>\n").append(img(plot(steps,
                    m -> m.seconds() > 0 ? m.examples() / m.seconds() : 0, rateLabel, new Color(0xd62728))));
        }
        html.append("</body></html>\n");
        Path f = dir.resolve("report.html");
        AtomicFiles.write(f, html.toString()); // a full disk leaves no half report
        return f;
    }

    private static void row(StringBuilder html, String k, String v) {
        html.append("<tr><th>").append(escape(k)).append("</th><td>").append(escape(v)).append("</td></tr>\n");
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static String img(byte[] png) {
        return "<img alt=\"plot\" src=\"data:image/png;base64," + Base64.getEncoder().encodeToString(png) + "\">\n";
    }

    /** A line plot of {@code y} over the step index, with min/max labels. */
    static byte[] plot(List<StepMetrics> steps, ToDoubleFunction<StepMetrics> y, String label, Color color)
            throws IOException {
        return plot(steps.stream().mapToLong(m -> m.step() + 1).toArray(), steps.stream().mapToDouble(y).toArray(),
                label, color);
    }

    /** A line plot of {@code y[i]} over steps {@code x[i]} (1-based, ascending), with min/max labels. */
    static byte[] plot(long[] xs, double[] ys, String label, Color color) throws IOException {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        int left = 70;
        int right = W - 20;
        int top = 20;
        int bottom = H - 40;
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double v : ys) {
            if (Double.isFinite(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (!(hi >= lo)) {
            lo = 0;
            hi = 1;
        }
        if (hi == lo) {
            hi = lo + 1;
        }
        long first = xs[0];
        long last = Math.max(first + 1, xs[xs.length - 1]);
        g.setColor(Color.GRAY);
        g.drawRect(left, top, right - left, bottom - top);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString(String.format(Locale.ROOT, "%.4g", hi), 5, top + 10);
        g.drawString(String.format(Locale.ROOT, "%.4g", lo), 5, bottom);
        g.drawString(label, 5, (top + bottom) / 2);
        g.drawString("step " + first, left, bottom + 18);
        g.drawString("step " + last, right - 70, bottom + 18);
        g.setColor(color);
        g.setStroke(new BasicStroke(1.5f));
        int px = -1;
        int py = -1;
        for (int i = 0; i < xs.length; i++) {
            double v = ys[i];
            if (!Double.isFinite(v)) {
                continue;
            }
            int x = left + (int) Math.round((double) (xs[i] - first) / (last - first) * (right - left));
            int yy = bottom - (int) Math.round((v - lo) / (hi - lo) * (bottom - top));
            if (px >= 0) {
                g.drawLine(px, py, x, yy);
            }
            px = x;
            py = yy;
        }
        g.dispose();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageIO.write(img, "png", bytes);
        return bytes.toByteArray();
    }
}
