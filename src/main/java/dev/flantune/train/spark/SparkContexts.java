package dev.flantune.train.spark;

import dev.flantune.config.RunConfig.SparkSettings;
import dev.flantune.util.FlanTuneException;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * Starts the Spark context a distributed run uses: embedded in local mode (bound to loopback, no
 * UI), or the cluster's under spark-submit, whose {@code --master} must then match the config.
 */
final class SparkContexts {
  private SparkContexts() {}

  static JavaSparkContext start(SparkSettings s) {
    SparkConf conf = new SparkConf().setAppName("flan-tune train");
    if (conf.contains("spark.master")) {
      String submitted = conf.get("spark.master");
      if (!submitted.equals(s.master())) {
        throw FlanTuneException.badUsage(
            "distributed.spark.master is '"
                + s.master()
                + "' but spark-submit was given --master "
                + submitted
                + "; pass distributed.spark.master="
                + submitted);
      }
    } else {
      conf.setMaster(s.master());
    }
    if (s.master().startsWith("local")) {
      // Embedded: nothing listens beyond this machine, and no web UI.
      conf.set("spark.driver.host", "127.0.0.1");
      conf.set("spark.driver.bindAddress", "127.0.0.1");
      conf.set("spark.ui.enabled", "false");
    }
    conf.setIfMissing("spark.ui.showConsoleProgress", "false");
    return new JavaSparkContext(conf);
  }

  /**
   * The SLF4J providers on the classpath. Embedded, it must be Logback alone; Spark's own log4j2
   * binding is excluded from the build (a second binding makes SLF4J pick one arbitrarily).
   */
  static List<String> slf4jProviders() {
    List<String> names = new ArrayList<>();
    for (SLF4JServiceProvider p : ServiceLoader.load(SLF4JServiceProvider.class)) {
      names.add(p.getClass().getName());
    }
    return names;
  }
}
