#!/usr/bin/env python3
"""GEMM ceiling for the PyTorch baseline: fp32 torch.mm(a, b, out=c) of N x N x N
(default 1024), GFLOP/s = 2*N^3 / time, median of --reps (default 10) after warm-up.
Prints one JSON object.

  /usr/bin/python3 scripts/reference/gemm_torch.py [--n 1024] [--reps 10] [--threads K]
"""

import argparse
import json
import os
import statistics
import sys
import time


def main(argv=None):
    ap = argparse.ArgumentParser(description="torch.mm fp32 GFLOP/s")
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, str(a.threads))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch
    from bench_torch import blas_report

    torch.set_num_threads(a.threads)
    blas, blas_info, blas_libs = blas_report(torch)
    if blas != "openblas":
        print(f"gemm_torch: WARNING: torch is not using OpenBLAS (blas={blas}, libs={blas_libs})",
              file=sys.stderr)
    g = torch.Generator().manual_seed(0)
    n = a.n
    x = torch.randn(n, n, generator=g)
    y = torch.randn(n, n, generator=g)
    c = torch.empty(n, n)  # preallocated output: no page faults inside the timing
    for _ in range(a.warmup):
        torch.mm(x, y, out=c)
    gf = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        torch.mm(x, y, out=c)
        gf.append(2.0 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    print(json.dumps({"impl": "pytorch", "op": "torch.mm", "n": n, "dtype": "float32",
                      "torch": torch.__version__, "blas": blas, "blas_libs": blas_libs,
                      "threads": a.threads, "gflops_median": round(statistics.median(gf), 1),
                      "gflops_all": [round(v, 1) for v in gf]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
