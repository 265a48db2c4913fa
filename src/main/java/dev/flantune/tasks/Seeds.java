package dev.flantune.tasks;

/**
 * Seeded choices that depend on identities, not on call order: the choice for an example is the
 * same however the collection is traversed, streamed, resumed or split across workers.
 */
public final class Seeds {
  private Seeds() {}

  /** SplitMix64's finalizer: a good 64-bit mix, so nearby inputs give unrelated outputs. */
  public static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  public static long mix(long... parts) {
    long h = 0x9e3779b97f4a7c15L;
    for (long p : parts) h = mix64(h ^ mix64(p + 0x9e3779b97f4a7c15L));
    return h;
  }

  /** A 64-bit FNV-1a hash of a string (String.hashCode's 32 bits collide too easily). */
  public static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= 0x100000001b3L;
    }
    return h;
  }

  /** A uniform index in [0, n) from a mixed 64-bit value. */
  public static int index(long mixed, int n) {
    return (int) Math.floorMod(mixed, (long) n);
  }
}
