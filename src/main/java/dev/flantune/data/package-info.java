/**
 * From rendered text to model batches: token ids with exact loss masks ({@link
 * dev.flantune.data.ExampleTokenizer}, {@link dev.flantune.data.TokenizedExample}), the training
 * mixture over tasks ({@link dev.flantune.data.Mixture}), and padded or packed {@link
 * dev.flantune.data.Batch}es ({@link dev.flantune.data.Batcher}).
 *
 * <p>Two loss-mask alignments meet here, and mixing them up silently trains on the wrong tokens:
 * {@link dev.flantune.data.TokenizedExample#lossMask()} (and {@code loss_mask} in {@code render}
 * output) is aligned to the input ids: 1 iff {@code ids[i]} is a target or EOS token. {@link
 * dev.flantune.data.Batch#lossMask()} is aligned to predictions: 1 iff {@code labels[i]} (the token
 * predicted at {@code i}, i.e. {@code ids[i+1]}) is a target or EOS token.
 */
package dev.flantune.data;
