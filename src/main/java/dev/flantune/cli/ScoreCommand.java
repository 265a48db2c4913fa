package dev.flantune.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.model.CausalLm;
import dev.flantune.model.Scorer;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.FlanTuneException;
import dev.flantune.util.Jsonl;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flan-tune score}: log-probability of each line's completion given its prompt. Prompt and
 * completion are tokenized separately without special tokens and concatenated, as in training. A
 * model that uses BOS gets it once, at the start (so an empty prompt is scored after BOS alone);
 * for a model without BOS an empty prompt is scored after the EOS token, GPT-2's document
 * separator. A prompt too long for the context loses its start (never the BOS).
 */
@Command(
    name = "score",
    mixinStandardHelpOptions = true,
    description = "Score JSONL {prompt, completion} lines: adds logprob, tokens and greedy.")
final class ScoreCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      description = "Checkpoint directory (Hugging Face layout).")
  Path model;

  @Option(
      names = "--adapter",
      description = "A LoRA adapter directory (PEFT layout) to apply to --model.")
  Path adapter;

  @Option(
      names = "--input",
      required = true,
      description = "JSONL with string fields prompt and completion.")
  Path input;

  @Option(names = "--output", description = "Output JSONL (default: standard output).")
  Path output;

  @Option(
      names = "--batch-size",
      defaultValue = "16",
      description = "Maximum sequences per forward pass.")
  int batchSize;

  @Override
  public Integer call() throws Exception {
    ModelArgs args = ModelArgs.of(model, adapter);
    CausalLm lm = args.load();
    List<ObjectNode> lines = new ArrayList<>();
    List<Scorer.Request> requests = new ArrayList<>();
    int maxLen = lm.config().nPositions();
    try (Tokenizer tok = Tokenizer.load(args.tokenizer())) {
      int bos = tok.specialTokens().prependedBos();
      Jsonl.forEach(
          input,
          line -> {
            int[] prompt = tok.encode(line.requireString("prompt"));
            int[] completion = tok.encode(line.requireString("completion"));
            if (prompt.length == 0 && bos < 0) {
              if (tok.eosId() < 0)
                throw FlanTuneException.badInput(
                    line.where() + ": empty prompt and the tokenizer has no EOS");
              prompt = new int[] {tok.eosId()};
            }
            if (completion.length > maxLen) {
              throw FlanTuneException.badInput(
                  line.where()
                      + ": completion has "
                      + completion.length
                      + " tokens, more than the model's n_positions "
                      + maxLen
                      + "; shorten it");
            }
            int keep =
                maxLen + 1 - completion.length; // prompt tokens that fit; drop the prompt's start
            int lead = bos >= 0 ? 1 : 0;
            if (prompt.length + lead > keep)
              prompt = Arrays.copyOfRange(prompt, prompt.length - (keep - lead), prompt.length);
            prompt = tok.specialTokens().withBos(prompt);
            lines.add(line.object());
            requests.add(new Scorer.Request(prompt, completion));
          });
    }
    Scorer.Result[] results = new Scorer(lm, batchSize).score(requests);
    if (output == null) {
      write(lines, results, spec.commandLine().getOut());
      spec.commandLine().getOut().flush();
    } else {
      try (Writer w = Files.newBufferedWriter(output)) {
        write(lines, results, w);
      }
    }
    return 0;
  }

  private static void write(List<ObjectNode> lines, Scorer.Result[] results, Writer w)
      throws java.io.IOException {
    for (int i = 0; i < lines.size(); i++) {
      ObjectNode o = lines.get(i);
      o.put("logprob", results[i].logprob());
      o.put("tokens", results[i].tokens());
      o.put("greedy", results[i].greedy());
      w.write(Jsonl.JSON.writeValueAsString(o));
      w.write('\n');
    }
  }
}
