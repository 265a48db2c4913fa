package dev.flantune.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.report.Contamination.TaskContamination;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The contamination check and the rendering choice in each report format: a JSON object, a Markdown
 * section, and a terminal table printed after the summary. Kept apart from the score tables so each
 * can change without the other.
 */
final class ContaminationTables {
  private ContaminationTables() {}

  static void json(EvalReport r, ObjectNode root) {
    root.putObject("rendering")
        .put("options_format", r.rendering().optionsFormat())
        .put("chosen_by", r.rendering().chosenBy())
        .put("prompt_format", r.rendering().promptFormat())
        .put("prompt_format_chosen_by", r.rendering().promptChosenBy());
    Contamination c = r.contamination();
    if (c == null) {
      root.putNull("contamination");
      return;
    }
    ObjectNode o = root.putObject("contamination");
    o.put("ngram", c.ngram()).put("rule", Contamination.RULE);
    o.put("seconds", c.seconds()).put("memory_bytes", c.bytes());
    ArrayNode sources = o.putArray("sources");
    for (Contamination.Source s : c.sources()) {
      ObjectNode so = sources.addObject().put("name", s.name()).put("origin", s.origin());
      so.put("words", s.words());
      s.files().forEach(so.putArray("files")::add);
    }
    c.notes().forEach(o.putArray("notes")::add);
    ObjectNode tasks = o.putObject("tasks");
    c.tasks()
        .forEach(
            (name, t) -> {
              ObjectNode to = tasks.putObject(name);
              to.put("examples", t.examples()).put("contaminated", t.contaminated());
              num(to, "contaminated_fraction", t.fraction());
              ObjectNode by = to.putObject("by_source");
              t.bySource().forEach(by::put);
              for (String m : r.models()) {
                ObjectNode mo = to.putObject(m);
                num(mo, "full", t.full().getOrDefault(m, Double.NaN));
                num(mo, "clean", t.clean().getOrDefault(m, Double.NaN));
                num(mo, "delta_clean_minus_full", t.delta(m));
              }
            });
  }

  /** One sentence on how options were drawn, for the report's opening paragraph. */
  static String renderingSentence(EvalReport r) {
    EvalReport.Rendering g = r.rendering();
    return "Options rendered as `"
        + g.optionsFormat()
        + "` ("
        + (g.optionsFormat().equals("flan")
            ? "FLAN's `OPTIONS:` block"
            : "Flan Collection variants, chosen per example")
        + "; chosen by "
        + g.chosenBy()
        + "). Prompt format `"
        + g.promptFormat()
        + "` ("
        + (g.chatTemplate()
            ? "each prompt a user message through the model's chat template, the answer the"
                + " assistant's reply"
            : "the prompt as plain text")
        + "; chosen by "
        + g.promptChosenBy()
        + ").";
  }

  static void markdown(EvalReport r, StringBuilder sb) {
    Contamination c = r.contamination();
    sb.append("\n## Contamination\n\n");
    if (c == null) {
      sb.append("Not checked.\n");
      return;
    }
    sb.append("Word ")
        .append(c.ngram())
        .append("-grams: ")
        .append(Contamination.RULE)
        .append(". Clean = the examples no source matched; Δ = clean − full.\n\n");
    for (Contamination.Source s : c.sources()) {
      sb.append("- ")
          .append(s.name())
          .append(": ")
          .append(String.format(Locale.ROOT, "%,d", s.words()))
          .append(" words in ")
          .append(s.files().size())
          .append(" files (from `")
          .append(s.origin())
          .append("`)\n");
    }
    for (String note : c.notes()) sb.append("- ").append(note).append('\n');
    sb.append(
        String.format(
            Locale.ROOT,
            "- checked in %.1f s, %.1f MB of hash sets%n%n",
            c.seconds(),
            c.bytes() / 1e6));
    List<String[]> rows = rows(r);
    sb.append("| ").append(String.join(" | ", rows.get(0))).append(" |\n");
    sb.append("|---|").append("---:|".repeat(rows.get(0).length - 1)).append('\n');
    for (String[] row : rows.subList(1, rows.size()))
      sb.append("| ").append(String.join(" | ", row)).append(" |\n");
  }

  /** The terminal table after the summary; empty when no check was made. */
  static String terminal(EvalReport r) {
    if (r.contamination() == null) return "";
    return "\ncontamination (word "
        + r.contamination().ngram()
        + "-grams; clean = examples no source matched)\n"
        + SummaryTable.table(rows(r));
  }

  private static List<String[]> rows(EvalReport r) {
    Contamination c = r.contamination();
    List<String[]> rows = new ArrayList<>();
    List<String> head = new ArrayList<>(List.of("task", "examples", "contaminated"));
    for (Contamination.Source s : c.sources()) head.add("by " + s.name());
    for (String m : r.models()) {
      head.add(m + " full");
      head.add(m + " clean");
      head.add(m + " Δ clean−full");
    }
    rows.add(head.toArray(String[]::new));
    for (Map.Entry<String, TaskContamination> e : c.tasks().entrySet()) {
      TaskContamination t = e.getValue();
      List<String> row = new ArrayList<>(List.of(e.getKey(), String.valueOf(t.examples())));
      row.add(
          Double.isNaN(t.fraction())
              ? "–"
              : String.format(Locale.ROOT, "%d (%.1f%%)", t.contaminated(), 100 * t.fraction()));
      for (Contamination.Source s : c.sources())
        row.add(String.valueOf(t.bySource().getOrDefault(s.name(), 0)));
      for (String m : r.models()) {
        row.add(Reports.pct(t.full().getOrDefault(m, Double.NaN)));
        row.add(Reports.pct(t.clean().getOrDefault(m, Double.NaN)));
        row.add(Reports.signed(t.delta(m)));
      }
      rows.add(row.toArray(String[]::new));
    }
    return rows;
  }

  private static void num(ObjectNode o, String key, double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) o.putNull(key);
    else o.put(key, v);
  }
}
