package dev.flantune.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

/**
 * Which earlier run a study may reuse: the same resolved config, where a scalar equals its one-item
 * list and a key the earlier run did not know yet equals its default; any other change is named.
 */
class StudyRunTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private static String diff(String was, String now, String defaults) throws Exception {
    JsonNode d = defaults == null ? null : YAML.readTree(defaults);
    return StudyRun.firstDifference("", YAML.readTree(was), YAML.readTree(now), d);
  }

  @Test
  void namesTheFirstChangedFieldByItsPath() throws Exception {
    assertNull(diff("train: {steps: 3, lr: 0.1}", "train: {lr: 0.1, steps: 3}", null));
    assertEquals(
        "train.steps: 3 then, 4 now",
        diff("train: {steps: 3, lr: 0.1}", "train: {steps: 4, lr: 0.1}", null));
    assertEquals(
        "data.held_out: [\"nli\"] then, [\"nli\",\"sentiment\"] now",
        diff("data: {held_out: [nli]}", "data: {held_out: [nli, sentiment]}", null));
  }

  @Test
  void aScalarEqualsItsOneItemList() throws Exception {
    assertNull(diff("data: {shots: 0}", "data: {shots: [0]}", null));
    assertEquals(
        "data.shots: 0 then, [0,2] now", diff("data: {shots: 0}", "data: {shots: [0, 2]}", null));
  }

  @Test
  void aNewKeyAtItsDefaultIsTheOldBehaviour() throws Exception {
    String defaults = "data: {shots: 0, prompt_format: plain}";
    assertNull(diff("data: {shots: 0}", "data: {shots: 0, prompt_format: plain}", defaults));
    assertEquals(
        "data.prompt_format: absent then, \"chat_template\" now",
        diff("data: {shots: 0}", "data: {shots: 0, prompt_format: chat_template}", defaults));
    assertEquals("data.shots: 0 then, absent now", diff("data: {shots: 0}", "data: {}", defaults));
  }
}
