package dev.flantune.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.util.List;
import java.util.Map;

/**
 * {@code |tojson}, replacing jinjava's (which writes compact JSON) with transformers' definition,
 * {@code json.dumps(x, ensure_ascii=False, indent=indent, separators=separators,
 * sort_keys=sort_keys)}; see {@link PyJson}.
 */
final class ToJsonFilter implements Filter {
  @Override
  public String getName() {
    return "tojson";
  }

  @Override
  public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
    return filter(var, interpreter, args, Map.of());
  }

  @Override
  public Object filter(
      Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
    Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : arg(args, 0);
    Object separators = kwargs.get("separators");
    String item = null;
    String key = null;
    if (separators instanceof List<?> pair && pair.size() == 2) {
      item = String.valueOf(pair.get(0));
      key = String.valueOf(pair.get(1));
    }
    boolean sortKeys = Boolean.TRUE.equals(kwargs.get("sort_keys"));
    try {
      Integer width = indent instanceof Number n ? Integer.valueOf(n.intValue()) : null;
      return new PyJson(width, item, key, sortKeys).write(var);
    } catch (IllegalArgumentException e) {
      RenderGuard.current().trip(e.getMessage());
      return "";
    }
  }

  private static Object arg(Object[] args, int i) {
    return args != null && args.length > i ? args[i] : null;
  }
}
