package dev.flantune.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.util.FlanTuneException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Hostile and unsupported templates: each fails within seconds with one line naming the template
 * and the construct; nothing hangs and nothing outside the data is reachable.
 */
@Timeout(30)
class ChatTemplateSandboxTest {
  private static final List<ChatTurn> CHAT =
      List.of(ChatTurn.of("user", "hi"), ChatTurn.of("assistant", "hello"));

  private static FlanTuneException failure(String source) {
    long start = System.nanoTime();
    FlanTuneException e =
        assertThrows(
            FlanTuneException.class,
            () ->
                ChatTemplate.of(
                        source,
                        "evil/tokenizer_config.json",
                        new ChatTemplate.Settings("<s>", "</s>", null, null))
                    .render(CHAT, true));
    double seconds = (System.nanoTime() - start) / 1e9;
    assertTrue(seconds < 10, "took " + seconds + " s");
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    assertTrue(e.getMessage().startsWith("evil/tokenizer_config.json"), e.getMessage());
    assertEquals(FlanTuneException.Kind.BAD_INPUT, e.kind());
    return e;
  }

  private static void assertNames(String source, String... expected) {
    String message = failure(source).getMessage();
    for (String part : expected) assertTrue(message.contains(part), message);
  }

  @Test
  void runawayLoopStopsAtTheIterationBudget() {
    assertNames(
        "{% for i in range(1000000000) %}{% endfor %}",
        "'for' loops ran more than 1000000 iterations");
    assertNames(
        "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
            + "{% endfor %}{% endfor %}{% endfor %}",
        "'for' loops ran more than 1000000 iterations");
    assertNames(
        "{% set xs = range(900)|list %}{% for a in xs %}{% for b in xs %}{% for c in xs %}"
            + "{% endfor %}{% endfor %}{% endfor %}",
        "'for' loops ran more than");
  }

  @Test
  void recursiveMacrosStopAtTheDepthLimit() {
    assertNames("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "nested deeper than 32");
    // Mutual recursion too.
    assertNames(
        "{% macro a(n) %}{{ b(n) }}{% endmacro %}{% macro b(n) %}{{ a(n) }}{% endmacro %}{{ a(0)"
            + " }}",
        "nested deeper than 32");
  }

  @Test
  void boundedRecursionStillRenders() {
    String countdown =
        "{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(5) }}";
    assertEquals(
        "54321",
        ChatTemplate.of(countdown, "ok", new ChatTemplate.Settings("", "", null, null))
            .render(CHAT, false));
  }

  @Test
  void aMegabyteOfOutputIsRefused() {
    assertNames("{% for i in range(200000) %}0123456789{% endfor %}", "output");
    assertNames("{{ 'x' * 2000000 }}", "chat template");
    assertNames(
        "{% set s = namespace(t='x') %}{% for i in range(30) %}{% set s.t = s.t + s.t %}{% endfor"
            + " %}{{ s.t }}",
        "chat template");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '#',
      quoteCharacter = '"',
      value = {
        "{{ messages.getClass() }}#getClass",
        "{{ messages[0].content.getClass().forName('java.lang.Runtime') }}#getClass",
        "{{ messages[0].content.toUpperCase() }}#toUpperCase",
        "{{ messages[0].content.class }}#",
        "{{ ''.__class__.__mro__ }}#",
        "{{ bos_token.getBytes() }}#getBytes",
        "{{ messages|attr('class') }}#",
        "{{ loop.getClass() }}#",
      })
  void javaObjectsAreOutOfReach(String source, String construct) {
    // Either the call is refused by name, or the attribute is undefined and renders as nothing.
    try {
      String out =
          ChatTemplate.of(
                  source,
                  "evil/tokenizer_config.json",
                  new ChatTemplate.Settings("<s>", "</s>", null, null))
              .render(CHAT, false);
      assertTrue(out.isEmpty(), "rendered '" + out + "'");
      assertTrue(construct == null, "expected a refusal naming " + construct);
    } catch (FlanTuneException e) {
      assertEquals(1, e.getMessage().lines().count());
      if (construct != null) assertTrue(e.getMessage().contains(construct), e.getMessage());
    }
  }

  @Test
  void filesAndTheEnvironmentAreOutOfReach() {
    assertNames("{% include '/etc/passwd' %}", "include");
    assertNames("{% import 'logback.xml' as x %}", "import");
    assertNames("{% from 'x' import y %}", "from");
    assertNames("{% extends 'base.html' %}", "extends");
    assertNames("{{ 'x'|render }}", "render");
  }

  @Test
  void unsupportedConstructsAreNamed() {
    assertNames("{% unknowntag %}", "unknowntag");
    assertNames("{{ messages[0].content.zfill(3) }}", "zfill");
    assertNames(
        "{{ raise_exception('roles must alternate') }}", "template raised: roles must alternate");
    assertNames("{{ strftime_now('%G') }}", "%G");
    assertNames("{% for m in messages %}{{ loop|tojson }}{% endfor %}", "not JSON serializable");
  }

  @Test
  void aRenderTimeLimitStopsSlowTemplates() {
    ChatTemplateLimits tight = new ChatTemplateLimits(512 * 1024, 100_000_000, 32, 300);
    String slow =
        "{% for a in range(100000) %}{% for b in range(1000) %}{{ '' }}{% endfor %}{% endfor %}";
    FlanTuneException e =
        assertThrows(
            FlanTuneException.class,
            () ->
                ChatTemplate.of(
                    slow, "slow.jinja", new ChatTemplate.Settings("", "", null, tight)));
    assertTrue(e.getMessage().contains("render time limit of 300 ms exceeded"), e.getMessage());
  }

  @Test
  void legitimateLongConversationsFitTheDefaults() {
    String chatml =
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}";
    List<ChatTurn> many =
        java.util.stream.IntStream.range(0, 400)
            .mapToObj(
                i -> ChatTurn.of(i % 2 == 0 ? "user" : "assistant", "turn " + i + " ".repeat(200)))
            .toList();
    String out =
        ChatTemplate.of(chatml, "chatml", new ChatTemplate.Settings("", "", null, null))
            .render(many, false);
    assertTrue(out.length() > 80_000);
  }
}
