package dev.flantune.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which clusters overlap, so that holding one out of training also holds out the others. Data, not
 * code: the FLAN default lives in {@code cluster-overlaps.yaml} next to this class, and a config
 * can pass its own pairs. The relation is symmetric.
 */
public record ClusterOverlaps(List<List<String>> pairs) {

  public ClusterOverlaps {
    pairs = pairs.stream().map(List::copyOf).toList();
    for (List<String> p : pairs) {
      if (p.size() != 2)
        throw new IllegalArgumentException("a cluster overlap is a pair, got " + p);
    }
  }

  public static final ClusterOverlaps NONE = new ClusterOverlaps(List.of());

  /** FLAN's pairs: nli with paraphrase, reading_comprehension with commonsense. */
  public static ClusterOverlaps flanDefault() {
    try (InputStream in = ClusterOverlaps.class.getResourceAsStream("cluster-overlaps.yaml")) {
      JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(in);
      List<List<String>> pairs = new ArrayList<>();
      for (JsonNode p : root.get("overlaps"))
        pairs.add(List.of(p.get(0).asText(), p.get(1).asText()));
      return new ClusterOverlaps(pairs);
    } catch (IOException e) {
      throw new UncheckedIOException("cluster-overlaps.yaml missing from the jar", e);
    }
  }

  /** The held-out clusters plus every cluster paired with one of them. */
  public Set<String> excludedWith(Set<String> heldOut) {
    Set<String> out = new TreeSet<>(heldOut);
    for (List<String> p : pairs) {
      if (heldOut.contains(p.get(0))) out.add(p.get(1));
      if (heldOut.contains(p.get(1))) out.add(p.get(0));
    }
    return out;
  }
}
