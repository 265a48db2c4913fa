/**
 * Training: {@link dev.flantune.train.TrainRecipe} (set up, resume, train, save, evaluate — read
 * top to bottom), {@link dev.flantune.train.Trainer} (the step loop), {@link
 * dev.flantune.train.TrainStep} (one optimizer step, also what {@code bench} times), {@link
 * dev.flantune.train.AdamW}, {@link dev.flantune.train.LrSchedule} and {@link
 * dev.flantune.train.RunDir} (atomic checkpoints, resume). {@link dev.flantune.train.OptimizerStep}
 * is the seam where {@code dev.flantune.train.spark} spreads a step over Spark partitions.
 */
package dev.flantune.train;
