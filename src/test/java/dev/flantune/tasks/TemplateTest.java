package dev.flantune.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TemplateTest {

  @Test
  void parsesPlaceholdersAndRendersThem() {
    Template t =
        Template.of(0, "{premise}\n\nQ: {hypothesis}?\n\n{options_}", "It is {answer}.", false);
    assertEquals(Set.of("premise", "hypothesis"), t.exampleFields());
    assertTrue(t.uses(Template.OPTIONS));
    assertTrue(t.targetUsesAnswer());
    Map<String, String> f =
        Map.of("premise", "P", "hypothesis", "H", "options_", "OPTIONS:\n- a", "answer", "a");
    assertEquals("P\n\nQ: H?\n\nOPTIONS:\n- a", t.renderInput(f::get));
    assertEquals("It is a.", t.renderTarget(f::get));
  }

  @Test
  void rejectsEmptyTemplates() {
    var e =
        assertThrows(IllegalArgumentException.class, () -> Template.of(0, "  ", "{answer}", false));
    assertEquals("input: empty template", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Template.of(0, "{x}", "", false));
    assertEquals("target: empty template", e.getMessage());
  }

  @Test
  void rejectsStrayAndMalformedBraces() {
    for (String bad : List.of("{premise", "premise}", "{ premise}", "{1x}", "{}", "{a-b}")) {
      var e =
          assertThrows(
              IllegalArgumentException.class, () -> Template.of(0, bad, "{answer}", false), bad);
      assertTrue(e.getMessage().startsWith("input: "), e.getMessage());
    }
  }

  @Test
  void rejectsFlansStrayNAndLiteralBackslashN() {
    // FLAN 2021 shipped "{hypothesis}n\n" nine times; YAML single quotes keep "\n" as two
    // characters.
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Template.of(0, "{premise}\n{hypothesis}n\n{options_}", "{answer}", false));
    assertTrue(e.getMessage().contains("stray 'n' after {hypothesis}"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Template.of(0, "{premise}\\n\\nTrue?", "{answer}", false));
    assertTrue(e.getMessage().contains("double quotes"), e.getMessage());
  }

  @Test
  void optionsBlockIsFlansByDefault() {
    assertEquals(
        "OPTIONS:\n- negative\n- positive",
        OptionsFormat.FLAN.render(List.of("negative", "positive")));
    assertEquals(
        "Pick from:\n A. x\n B. y",
        new OptionsFormat("Pick from:", " {LETTER}. {option}").render(List.of("x", "y")));
    assertEquals(
        "Available choices:\n 1). {letter}",
        OptionsFormat.FLAN_COLLECTION.get(4).render(List.of("{letter}")));
  }

  @Test
  void optionsPolicyIsAFunctionOfTheKey() {
    OptionsFormat.Policy p = OptionsFormat.Policy.randomAmong(OptionsFormat.FLAN_COLLECTION);
    assertEquals(p.choose(12345), p.choose(12345));
    Set<OptionsFormat> seen = new java.util.HashSet<>();
    for (long k = 0; k < 200; k++) seen.add(p.choose(Seeds.mix64(k)));
    assertEquals(OptionsFormat.FLAN_COLLECTION.size(), seen.size());
    assertFalse(OptionsFormat.Policy.FLAN_ONLY.choose(7) != OptionsFormat.FLAN);
  }
}
