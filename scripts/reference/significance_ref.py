"""Reference values for the report's statistics (Java: dev.flantune.report.Significance).

Plain Python, no scipy: McNemar's exact test from binomial coefficients (math.comb, exact
integers), Wilson's interval from its formula, and the bootstrap with the same SplitMix64 draws
and numpy-style linear quantiles as the Java code, so every number must agree to rounding.
Writes src/test/resources/significance/reference.json:
    /usr/bin/python3 scripts/reference/significance_ref.py
"""
import json
import math
import random
from fractions import Fraction

MASK = (1 << 64) - 1
RESAMPLES = 1000
Z95 = 1.959963984540054


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


def mcnemar_p(b, c):
    n = b + c
    if n == 0:
        return 1.0
    tail = Fraction(sum(math.comb(n, i) for i in range(min(b, c) + 1)), 2 ** n)
    return float(min(Fraction(1), 2 * tail))


def wilson(correct, n):
    p = correct / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return [100 * (centre - half), 100 * (centre + half)]


def quantile(sorted_values, q):
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (pos - lo) * (sorted_values[hi] - sorted_values[lo])


def resampled_means(strata, seed):
    rng = SplitMix64(seed)
    out = []
    for _ in range(RESAMPLES):
        total = 0.0
        for s in strata:
            t = 0.0
            for _ in range(len(s)):
                t += s[rng.below(len(s))]
            total += t / len(s)
        out.append(total / len(strata))
    return sorted(out)


def bootstrap(strata, seed):
    strata = [[x for x in s if x is not None] for s in strata]
    stats = resampled_means(strata, seed)
    return [quantile(stats, 0.025), quantile(stats, 0.975)]


def paired_bootstrap(tuned, base, seed):
    diffs = []
    for t, b in zip(tuned, base):
        diffs.append([x - y for x, y in zip(t, b) if x is not None and y is not None])
    observed = sum(sum(d) / len(d) for d in diffs) / len(diffs)
    stats = resampled_means(diffs, seed)
    extreme = sum(1 for x in stats if abs(x - observed) >= abs(observed) - 1e-12)
    return {"delta": observed, "p": (1 + extreme) / (len(stats) + 1)}


def main():
    rnd = random.Random(16)
    cases = {"mcnemar": [], "wilson": [], "bootstrap": [], "paired": []}
    for b, c in [(0, 0), (1, 0), (5, 1), (10, 2), (3, 3), (12, 30), (40, 60), (600, 700)]:
        cases["mcnemar"].append({"b": b, "c": c, "p": mcnemar_p(b, c)})
    for k, n in [(0, 10), (10, 10), (42, 100), (7, 9), (500, 1000)]:
        cases["wilson"].append({"correct": k, "n": n, "interval": wilson(k, n)})
    # Per-example template means of an accuracy task (multiples of 100/3), one stratum; and a
    # cluster of two tasks of different sizes with a missing example (null).
    one = [[100 * rnd.randrange(4) / 3 for _ in range(50)]]
    two = [[100 * rnd.randrange(2) for _ in range(30)],
           [rnd.random() * 100 for _ in range(20)] + [None]]
    for seed, strata in [(0, one), (7, two)]:
        cases["bootstrap"].append({"seed": seed, "strata": strata,
                                   "interval": bootstrap(strata, seed)})
    base = [[100 * rnd.randrange(2) for _ in range(60)], [rnd.random() * 50 for _ in range(40)]]
    better = [[100 if rnd.random() < 0.8 else x for x in base[0]],
              [x + rnd.random() * 10 for x in base[1]]]
    same = [[x for x in base[0]], [x + rnd.uniform(-1, 1) for x in base[1]]]
    for seed, tuned in [(3, better), (3, same)]:
        r = paired_bootstrap(tuned, base, seed)
        cases["paired"].append({"seed": seed, "tuned": tuned, "base": base, **r})
    with open("src/test/resources/significance/reference.json", "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    print({k: len(v) for k, v in cases.items()})
    print([c["p"] for c in cases["paired"]])


if __name__ == "__main__":
    main()
