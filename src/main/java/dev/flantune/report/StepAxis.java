package dev.flantune.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.font.TextLayout;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.internal.chartpart.Annotation;
import org.knowm.xchart.style.XYStyler;

/**
 * The loss plot's step axis: tick marks and labels at the multiples of one round interval (1, 2 or
 * 5 × 10^k steps) inside the run, at most {@link #MAX_TICKS} of them, drawn by the chart in place
 * of XChart's own x labels. XChart puts its ticks on data points when steps are evenly spaced (201,
 * 226, 251, … for some run lengths), and its tick search never ends when a label formatter returns
 * the same text for two ticks, so blanking the labels that are not round cannot fix it there.
 * XChart's labels are still laid out with its default format, which keeps their room under the
 * plot, but drawn transparent.
 */
final class StepAxis extends Annotation {
  /** At most this many step labels: they must never run together. */
  static final int MAX_TICKS = 8;

  private static final Color TRANSPARENT = new Color(0, 0, 0, 0);

  /** A label as drawn: its step, text, the tick's x in pixels and the text's bounds. */
  record Placed(long step, String label, double tickX, Rectangle2D bounds) {}

  private final List<Long> ticks;
  private final List<Placed> placed = new ArrayList<>();
  private Color labelColor, markColor;

  private StepAxis(long first, long last) {
    super(false);
    this.ticks = ticks(first, last);
  }

  /**
   * Draws the step axis of {@code chart}, whose x values run from {@code first} to {@code last}:
   * XChart's own x labels and tick marks become transparent and its vertical grid lines go (they
   * would sit at its ticks, not these).
   */
  static StepAxis install(XYChart chart, long first, long last) {
    StepAxis axis = new StepAxis(first, last);
    XYStyler s = chart.getStyler();
    axis.labelColor = s.getXAxisTickLabelsColor();
    axis.markColor = s.getXAxisTickMarksColor();
    s.setXAxisTickLabelsColor(TRANSPARENT).setXAxisTickMarksColor(TRANSPARENT);
    s.setPlotGridVerticalLinesVisible(false);
    if (first == last) {
      // One point: give the axis a width, so the point and its label sit mid-plot.
      s.setXAxisMin(first - 1.0).setXAxisMax(last + 1.0);
    }
    chart.addAnnotation(axis);
    return axis;
  }

  /**
   * The labelled steps: the multiples of the smallest round interval (1, 2, 5, 10, 20, …) that has
   * at most {@link #MAX_TICKS} of them in {@code [first, last]}. The interval is below a third of
   * the range once the run has 8 steps or more, so labels start and end within one interval of the
   * run's ends and at least two are shown.
   */
  static List<Long> ticks(long first, long last) {
    if (last < first) throw new IllegalArgumentException("steps " + first + ".." + last);
    long every = interval(first, last);
    List<Long> out = new ArrayList<>();
    for (long s = Math.floorDiv(first + every - 1, every) * every; s <= last; s += every)
      out.add(s);
    return out;
  }

  /** The round interval {@link #ticks} labels. */
  static long interval(long first, long last) {
    for (long scale = 1; ; scale *= 10) {
      for (long m : new long[] {1, 2, 5}) {
        long every = m * scale;
        if (Math.floorDiv(last, every) - Math.floorDiv(first - 1, every) <= MAX_TICKS) return every;
      }
    }
  }

  /** A step label: a whole number with thousands separators. */
  static String label(long step) {
    return String.format(Locale.ROOT, "%,d", step);
  }

  /** The labels drawn by the last paint, left to right (for tests). */
  List<Placed> placed() {
    return List.copyOf(placed);
  }

  List<Long> ticks() {
    return ticks;
  }

  @Override
  public void paint(Graphics2D g) {
    placed.clear();
    if (!isVisible) return;
    XYStyler s = (XYStyler) styler;
    Object antialias = g.getRenderingHint(RenderingHints.KEY_ANTIALIASING);
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    double left = getXAxisScreenValueForMin(), right = getXAxisScreenValueForMax();
    double markTop = getYAxisScreenValueForMax() + s.getPlotMargin();
    double labelTop = markTop + s.getAxisTickMarkLength() + s.getAxisTickPadding();
    Font font = s.getAxisTickLabelsFont();
    BasicStroke stroke = s.getAxisTickMarksStroke();
    Rectangle2D all = null;
    for (long step : ticks) {
      double x = chart.getScreenXFromChart(step);
      if (!(x >= left && x <= right)) continue; // off the plot: not drawn (not expected)
      g.setColor(markColor);
      g.setStroke(stroke);
      g.draw(new Line2D.Double(x, markTop, x, markTop + s.getAxisTickMarkLength()));
      String text = label(step);
      TextLayout layout = new TextLayout(text, font, g.getFontRenderContext());
      Rectangle2D ink = layout.getBounds();
      double textLeft = x - ink.getWidth() / 2;
      g.setColor(labelColor);
      layout.draw(g, (float) (textLeft - ink.getX()), (float) (labelTop - ink.getY()));
      Rectangle2D box = new Rectangle2D.Double(textLeft, labelTop, ink.getWidth(), ink.getHeight());
      placed.add(new Placed(step, text, x, box));
      all = all == null ? box : all.createUnion(box);
    }
    bounds = all == null ? new Rectangle2D.Double() : all;
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, antialias);
  }
}
