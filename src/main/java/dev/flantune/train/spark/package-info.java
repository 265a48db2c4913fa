/**
 * Data-parallel training on Apache Spark's core API (docs/distributed.md): {@link
 * dev.flantune.train.spark.SparkStep} runs on the driver and spreads each optimizer step's
 * micro-batches over partitions; {@link dev.flantune.train.spark.PartitionWork} is what a partition
 * runs, on a model replica from {@link dev.flantune.train.spark.Replicas}. Nothing here is loaded
 * unless a config sets {@code distributed.spark.master}, so the single-process CLI runs without
 * Spark on the classpath.
 */
package dev.flantune.train.spark;
