package dev.flantune.report;

import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** Reading a rendered plot's pixels: colours counted, runs and blobs of one colour, dark text. */
final class Pixels {
  private Pixels() {}

  static boolean is(BufferedImage img, int x, int y, Color c) {
    return x >= 0
        && y >= 0
        && x < img.getWidth()
        && y < img.getHeight()
        && (img.getRGB(x, y) & 0xffffff) == (c.getRGB() & 0xffffff);
  }

  /** Pixels of exactly {@code c} in the rectangle from (x0, y0) to (x1, y1), inclusive. */
  static int count(BufferedImage img, int x0, int y0, int x1, int y1, Color c) {
    int n = 0;
    for (int y = y0; y <= y1; y++) for (int x = x0; x <= x1; x++) if (is(img, x, y, c)) n++;
    return n;
  }

  /** Dark pixels (drawn text) inside {@code box}. */
  static int dark(BufferedImage img, Rectangle2D box) {
    int n = 0;
    for (int y = (int) box.getMinY(); y <= (int) box.getMaxY(); y++)
      for (int x = (int) box.getMinX(); x <= (int) box.getMaxX(); x++) {
        if (x < 0 || y < 0 || x >= img.getWidth() || y >= img.getHeight()) continue;
        Color c = new Color(img.getRGB(x, y));
        if (c.getRed() + c.getGreen() + c.getBlue() < 3 * 128) n++;
      }
    return n;
  }

  /** The [first, last] columns of each horizontal run of {@code c} in row {@code y}. */
  static List<int[]> runs(BufferedImage img, int y, Color c) {
    List<int[]> out = new ArrayList<>();
    for (int x = 0; x < img.getWidth(); x++) {
      if (!is(img, x, y, c)) continue;
      int from = x;
      while (is(img, x + 1, y, c)) x++;
      out.add(new int[] {from, x});
    }
    return out;
  }

  /** The highest row of the vertical run of {@code c} through (x, y). */
  static int topOfRun(BufferedImage img, int x, int y, Color c) {
    while (is(img, x, y - 1, c)) y--;
    return y;
  }

  /** Each 4-connected blob of exactly {@code c}: its centre {x, y} and pixel count. */
  static List<double[]> blobs(BufferedImage img, Color c) {
    boolean[][] seen = new boolean[img.getHeight()][img.getWidth()];
    List<double[]> out = new ArrayList<>();
    for (int y = 0; y < img.getHeight(); y++)
      for (int x = 0; x < img.getWidth(); x++) {
        if (seen[y][x] || !is(img, x, y, c)) continue;
        double sx = 0, sy = 0;
        int n = 0;
        ArrayDeque<int[]> todo = new ArrayDeque<>();
        todo.add(new int[] {x, y});
        seen[y][x] = true;
        while (!todo.isEmpty()) {
          int[] p = todo.poll();
          sx += p[0];
          sy += p[1];
          n++;
          for (int[] d : new int[][] {{1, 0}, {-1, 0}, {0, 1}, {0, -1}}) {
            int nx = p[0] + d[0], ny = p[1] + d[1];
            if (is(img, nx, ny, c) && !seen[ny][nx]) {
              seen[ny][nx] = true;
              todo.add(new int[] {nx, ny});
            }
          }
        }
        out.add(new double[] {sx / n, sy / n, n});
      }
    return out;
  }
}
