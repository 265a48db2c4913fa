package dev.flantune.chat;

import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.List;
import java.util.Locale;

/**
 * The globals transformers gives a chat template: {@code raise_exception} and {@code strftime_now}.
 */
final class TemplateFunctions {
  private TemplateFunctions() {}

  static List<ELFunctionDefinition> definitions() {
    return List.of(
        new ELFunctionDefinition(
            "", "raise_exception", TemplateFunctions.class, "raiseException", Object.class),
        new ELFunctionDefinition(
            "", "strftime_now", TemplateFunctions.class, "strftimeNow", String.class));
  }

  /** Stops the render; the message is the template's and is reported as it wrote it. */
  public static String raiseException(Object message) {
    RenderGuard.current().raised(String.valueOf(message));
    return "";
  }

  /** The configured clock, formatted as Python's {@code datetime.strftime} would. */
  public static String strftimeNow(String format) {
    return strftime(RenderGuard.current().now(), format);
  }

  static String strftime(LocalDateTime t, String format) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 == format.length()) {
        out.append(c);
        continue;
      }
      char d = format.charAt(++i);
      boolean unpadded = d == '-' && i + 1 < format.length();
      if (unpadded) d = format.charAt(++i);
      switch (d) {
        case 'Y' -> out.append(t.getYear());
        case 'y' -> out.append(pad(t.getYear() % 100, 2, unpadded));
        case 'm' -> out.append(pad(t.getMonthValue(), 2, unpadded));
        case 'd' -> out.append(pad(t.getDayOfMonth(), 2, unpadded));
        case 'H' -> out.append(pad(t.getHour(), 2, unpadded));
        case 'I' -> out.append(pad((t.getHour() + 11) % 12 + 1, 2, unpadded));
        case 'M' -> out.append(pad(t.getMinute(), 2, unpadded));
        case 'S' -> out.append(pad(t.getSecond(), 2, unpadded));
        case 'j' -> out.append(pad(t.getDayOfYear(), 3, unpadded));
        case 'p' -> out.append(t.getHour() < 12 ? "AM" : "PM");
        case 'a' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.US));
        case 'A' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.US));
        case 'b' -> out.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.US));
        case 'B' -> out.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.US));
        case 'Z', 'z' -> {} // a naive datetime, as Python's datetime.now() is: empty
        case '%' -> out.append('%');
        default -> RenderGuard.current().trip("strftime_now: unsupported directive %" + d);
      }
    }
    return out.toString();
  }

  private static String pad(int value, int width, boolean unpadded) {
    String s = Integer.toString(value);
    return unpadded ? s : "0".repeat(Math.max(0, width - s.length())) + s;
  }
}
