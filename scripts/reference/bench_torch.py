#!/usr/bin/env python3
"""PyTorch baseline for `flan-tune bench` (issues #8, #12): times the plain-torch GPT-2 of
gpt2_ref.py (--arch gpt2, default) or Llama of llama_ref.py (--arch llama: RMSNorm,
rotate-half RoPE, GQA with --kv-heads, SwiGLU with --inter) on random token ids, fp32, CPU.

  --mode train (default): one step = forward, masked cross-entropy (loss mask all ones:
      the trainer's causal_lm objective), backward, torch.optim.AdamW step, zero_grad.
  --mode score: forward only under torch.no_grad(), per-token log-probs of the labels
      (rank-classification scoring); B sequences per forward = B examples.
  --mode generate: greedy decoding with a key/value cache (generate_torch.py) of --prompts
      prompts of --seq/2..--seq tokens (flan-tune's GenerateBench.promptLength), --new-tokens
      each, one prompt at a time and --batch at a time (left-padded), alternating for
      --rounds rounds after one warm-up round.

Prints ONE JSON object on stdout; warnings go to stderr.

  /usr/bin/python3 scripts/reference/bench_torch.py --vocab 8000 --embd 512 --layers 6 \
      --heads 8 --seq 256 --batch 4 --steps 10
  /usr/bin/python3 scripts/reference/bench_torch.py --arch llama --vocab 49152 --embd 576 \
      --layers 30 --heads 9 --kv-heads 3 --inter 1536 --seq 256 --batch 2 --steps 5

Needs OpenBLAS for a fair baseline: apt-get install -y python3-torch libopenblas0-pthread
"""

import argparse
import json
import os
import platform
import re
import resource
import statistics
import sys
import time


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=("gpt2", "llama"), default="gpt2")
    ap.add_argument("--vocab", type=int, required=True)
    ap.add_argument("--embd", type=int, required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--kv-heads", type=int, default=None,
                    help="llama: key/value heads (GQA; default --heads)")
    ap.add_argument("--inter", type=int, default=None,
                    help="llama: SwiGLU intermediate size (default 4*embd*2/3 rounded up to 64)")
    ap.add_argument("--head-dim", type=int, default=None,
                    help="llama: head_dim (default embd/heads)")
    ap.add_argument("--theta", type=float, default=10000.0, help="llama: rope_theta (default 1e4)")
    ap.add_argument("--tied", choices=("true", "false"), default="true",
                    help="llama: tie_word_embeddings (default true, as SmolLM2)")
    ap.add_argument("--qkv-bias", choices=("true", "false"), default="false",
                    help="llama: q/k/v biases as Qwen2 (default false)")
    ap.add_argument("--lora-r", type=int, default=0,
                    help="train a PEFT-style LoRA of this rank on a frozen base (lora_ref.py); "
                         "0 = full fine-tuning (default)")
    ap.add_argument("--lora-alpha", type=float, default=None, help="LoRA alpha (default 2*r)")
    ap.add_argument("--lora-targets", default=None,
                    help="comma list of module names (PEFT suffix rule) or all-linear "
                         "(default q_proj,v_proj for llama, c_attn for gpt2)")
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--steps", type=int, default=None, help="timed steps (train, score)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="torch.set_num_threads and OpenBLAS threads (default os.cpu_count())")
    ap.add_argument("--omp-wait-policy", choices=("passive", "active"), default=None,
                    help="set OMP_WAIT_POLICY before torch loads (default: leave the "
                         "environment alone). passive stops idle OpenMP threads spinning, which "
                         "on a busy 2-core machine was worth up to 10x on config i")
    ap.add_argument("--mode", choices=("train", "score", "generate"), default="train")
    ap.add_argument("--new-tokens", type=int, default=64, help="generate: tokens per prompt")
    ap.add_argument("--prompts", type=int, default=32, help="generate: prompts per round")
    ap.add_argument("--rounds", type=int, default=3, help="generate: timed rounds")
    ap.add_argument("--positions", type=int, default=None,
                    help="n_positions (wpe rows); default max(1024, seq) as in GPT-2")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--weight-decay", type=float, default=0.1,
                    help="AdamW decay on rank-2 weights only, as gpt2_ref.decay_param_names")
    ap.add_argument("--clip", type=float, default=0.0,
                    help="clip_grad_norm_ max norm; 0 = no clipping (default)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    if a.mode == "generate":
        a.steps = a.steps or 1
    for k in ("vocab", "embd", "layers", "heads", "seq", "batch", "steps", "threads"):
        if getattr(a, k) is None or getattr(a, k) <= 0:
            ap.error(f"--{k} must be positive")
    if a.warmup < 0:
        ap.error("--warmup must be >= 0")
    if a.arch == "gpt2":
        given = [f for f in ("kv_heads", "inter", "head_dim") if getattr(a, f) is not None]
        if given:
            ap.error("--" + given[0].replace("_", "-") + " needs --arch llama")
    else:
        a.kv_heads = a.kv_heads or a.heads
        if a.inter is None:
            a.inter = -(-(8 * a.embd // 3) // 64) * 64
        for k in ("kv_heads", "inter"):
            if getattr(a, k) <= 0:
                ap.error(f"--{k.replace('_', '-')} must be positive")
        if a.heads % a.kv_heads:
            ap.error("--heads must be a multiple of --kv-heads")
        if a.head_dim is not None and (a.head_dim <= 0 or a.head_dim % 2):
            ap.error("--head-dim must be positive and even")
    if a.embd % a.heads and (a.arch == "gpt2" or a.head_dim is None):
        ap.error("--embd must be divisible by --heads")
    if a.lora_r < 0:
        ap.error("--lora-r must be >= 0")
    if a.lora_r:
        if a.mode != "train":
            ap.error("--lora-r needs --mode train")
        if a.lora_alpha is None:
            a.lora_alpha = 2.0 * a.lora_r
        if a.lora_targets is None:
            a.lora_targets = "q_proj,v_proj" if a.arch == "llama" else "c_attn"
    if a.positions is None:
        a.positions = max(1024, a.seq + (a.new_tokens if a.mode == "generate" else 0))
    if a.seq > a.positions:
        ap.error("--seq exceeds --positions")
    return a


def blas_report(torch):
    """What torch says it was built with, and what BLAS library the process really
    mapped. Debian's python3-torch reports BLAS_INFO=generic (it links libblas.so.3,
    resolved by update-alternatives), so only the mapped library tells OpenBLAS apart
    from the reference BLAS."""
    cfg = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\s]+)", cfg)
    info = m.group(1) if m else "unknown"
    a = torch.ones(64, 64)
    _ = a @ a  # make sure the BLAS is loaded and used
    libs = set()
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                low = os.path.basename(path).lower()
                if any(k in low for k in ("blas", "lapack", "mkl", "blis", "atlas")):
                    libs.add(path)
    except OSError:
        pass
    joined = " ".join(sorted(libs)).lower() + " " + info.lower()
    if "openblas" in joined:
        kind = "openblas"
    elif "mkl" in joined:
        kind = "mkl"
    elif "blis" in joined:
        kind = "blis"
    elif "atlas" in joined:
        kind = "atlas"
    elif libs:
        kind = "reference"  # a plain libblas.so.3 that is not OpenBLAS/MKL/BLIS
    else:
        kind = "unknown"
    return kind, info, sorted(libs)


def main(argv=None):
    a = parse_args(argv)
    # OpenBLAS sizes its own thread pool from the environment at load time;
    # torch.set_num_threads only governs torch's intra-op (OpenMP) pool.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, str(a.threads))
    if a.omp_wait_policy:
        os.environ["OMP_WAIT_POLICY"] = a.omp_wait_policy.upper()

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch
    import gpt2_ref
    import llama_ref
    import lora_ref

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    blas, blas_info, blas_libs = blas_report(torch)
    if blas != "openblas":
        print(f"bench_torch: WARNING: torch is not using OpenBLAS (blas={blas}, "
              f"BLAS_INFO={blas_info}, libs={blas_libs}); the baseline is not fair. "
              "Install: apt-get install -y libopenblas0-pthread", file=sys.stderr)

    if a.arch == "gpt2":
        ref = gpt2_ref
        cfg = ref.GPT2Config(vocab_size=a.vocab, n_positions=a.positions, n_embd=a.embd,
                             n_layer=a.layers, n_head=a.heads)
    else:
        ref = llama_ref
        cfg = ref.LlamaConfig({
            "model_type": "llama", "vocab_size": a.vocab, "hidden_size": a.embd,
            "intermediate_size": a.inter, "num_hidden_layers": a.layers,
            "num_attention_heads": a.heads, "num_key_value_heads": a.kv_heads,
            "head_dim": a.head_dim, "rope_theta": a.theta, "rms_norm_eps": 1e-5,
            "max_position_embeddings": a.positions, "tie_word_embeddings": a.tied == "true",
            "attention_bias": a.qkv_bias == "true"})
        if a.qkv_bias == "true":  # Qwen2's biases: q/k/v only
            cfg.o_bias = False
    params = ref.init_params(cfg, seed=a.seed, dtype=torch.float32)
    if a.mode == "generate":
        print(json.dumps(bench_generate(a, torch, params, cfg, blas, blas_info)))
        return 0
    B, T = a.batch, a.seq
    g = torch.Generator().manual_seed(a.seed + 1)
    tokens = torch.randint(0, a.vocab, (B, T + 1), generator=g)
    input_ids, labels = tokens[:, :T].contiguous(), tokens[:, 1:].contiguous()
    loss_mask = torch.ones(B, T)  # causal_lm: every position is a target

    lora, trainable = None, params
    if a.lora_r:
        targets = a.lora_targets
        lcfg = lora_ref.LoraConfig(r=a.lora_r, lora_alpha=a.lora_alpha,
                                   target_modules=(targets if targets == "all-linear"
                                                   else targets.split(",")),
                                   fan_in_fan_out=a.arch == "gpt2")
        adapter = lora_ref.init_adapter(cfg, lcfg, seed=a.seed, dtype=torch.float32)
        lora = lora_ref.lora_arg(adapter, lcfg)
        trainable = lora_ref.adapter_tensors(adapter)  # the base stays requires_grad=False

    if a.mode == "train":
        for t in trainable.values():
            t.requires_grad_(True)
        decay = set(ref.decay_param_names(trainable))
        groups = [
            {"params": [trainable[n] for n in trainable if n in decay],
             "weight_decay": a.weight_decay},
            {"params": [trainable[n] for n in trainable if n not in decay], "weight_decay": 0.0},
        ]
        opt = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
        plist = list(trainable.values())

        def step():
            logits = ref.forward(params, cfg, input_ids, lora=lora)
            loss = ref.masked_loss(logits, labels, loss_mask)
            loss.backward()
            if a.clip > 0:
                torch.nn.utils.clip_grad_norm_(plist, a.clip)
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss.item()
    else:
        def step():
            with torch.no_grad():
                logits = ref.forward(params, cfg, input_ids)
                logp = torch.log_softmax(logits, dim=-1)
                tok = logp.gather(-1, labels[..., None])[..., 0] * loss_mask
                return tok.sum(dim=1)[0].item()  # per-example sums; .item() forces completion

    load_start = os.getloadavg()
    losses = []
    for _ in range(a.warmup):
        losses.append(step())
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        losses.append(step())
        times.append((time.perf_counter() - t0) * 1000.0)

    med = statistics.median(times)
    out = {
        "impl": "pytorch",
        "torch": torch.__version__,
        "blas": blas,
        "blas_info": blas_info,
        "blas_libs": blas_libs,
        "mode": a.mode,
        "arch": a.arch,
        "config": {"vocab": a.vocab, "embd": a.embd, "layers": a.layers, "heads": a.heads,
                   "seq": a.seq, "batch": a.batch, "positions": a.positions,
                   "steps": a.steps, "warmup": a.warmup, "lr": a.lr,
                   "weight_decay": a.weight_decay, "clip": a.clip, "seed": a.seed,
                   "dtype": "float32",
                   "params": sum(t.numel() for t in params.values())},
        "ms_per_step_median": round(med, 3),
        "ms_per_step_min": round(min(times), 3),
        "ms_per_step_all": [round(x, 3) for x in times],
        "tokens_per_s": round(B * T * 1000.0 / med, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "threads": a.threads,
        "env": {k: os.environ.get(k) for k in
                ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT",
                 "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        # 1-minute load average before and after: another busy process on a 2-core
        # machine shows up here and makes the numbers unreliable.
        "loadavg_1m": [round(load_start[0], 2), round(os.getloadavg()[0], 2)],
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
    }
    if a.lora_r:
        out["lora"] = {"r": a.lora_r, "alpha": a.lora_alpha, "targets": a.lora_targets,
                       "trainable_params": sum(t.numel() for t in trainable.values()),
                       "modules": len(lora)}
    if a.arch == "llama":
        out["config"].update({"qkv_bias": a.qkv_bias == "true", "kv_heads": a.kv_heads, "inter": a.inter,
                              "head_dim": cfg.head_dim, "theta": a.theta,
                              "tied": a.tied == "true"})
    if a.mode == "score":
        out["examples_per_s"] = round(B * 1000.0 / med, 3)
        del out["first_loss"], out["last_loss"]
    print(json.dumps(out))
    return 0


def prompt_length(i, longest):
    """flan-tune's GenerateBench.promptLength: lengths spread over [longest/2, longest]."""
    lo = max(1, longest // 2)
    return lo + (i * 37) % (longest - lo + 1)


def bench_generate(a, torch, params, cfg, blas, blas_info):
    """One at a time vs --batch at a time, A B per round; every row runs --new-tokens."""
    import generate_torch

    model = generate_torch.Model(params, cfg, a.arch)
    g = torch.Generator().manual_seed(a.seed + 1)
    prompts = [torch.randint(0, a.vocab, (prompt_length(i, a.seq),), generator=g).tolist()
               for i in range(a.prompts)]
    load_start = os.getloadavg()
    single, batched, identical = [], [], 0
    for rnd in range(-1, a.rounds):  # round -1: warm-up
        t0 = time.perf_counter()
        one = [generate_torch.generate(model, [p], a.new_tokens)[0] for p in prompts]
        t1 = time.perf_counter()
        many = torch.cat([generate_torch.generate(model, prompts[i:i + a.batch], a.new_tokens)
                          for i in range(0, len(prompts), a.batch)])
        t2 = time.perf_counter()
        if rnd < 0:
            continue
        single.append(t1 - t0)
        batched.append(t2 - t1)
        identical += sum(bool(torch.equal(x, y)) for x, y in zip(one, many))
    tokens = a.prompts * a.new_tokens

    def side(sec):
        med = statistics.median(sec)
        return {"seconds_median": round(med, 4), "seconds_all": [round(x, 4) for x in sec],
                "sequences_per_s": round(a.prompts / med, 3),
                "tokens_per_s": round(tokens / med, 2)}

    out = {"impl": "pytorch", "torch": torch.__version__, "blas": blas, "blas_info": blas_info,
           "mode": "generate", "arch": a.arch, "prompts": a.prompts, "longest_prompt": a.seq,
           "new_tokens": a.new_tokens, "batch": a.batch, "rounds": a.rounds,
           "one_at_a_time": side(single), "batched": side(batched),
           "identical_rows": identical, "compared_rows": a.rounds * a.prompts,
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
           "threads": a.threads, "loadavg_1m": [round(load_start[0], 2),
                                                round(os.getloadavg()[0], 2)]}
    out["tokens_per_s"] = out["batched"]["tokens_per_s"]
    out["speedup_batched_over_one"] = round(statistics.median(single)
                                            / statistics.median(batched), 3)
    return out


if __name__ == "__main__":
    sys.exit(main())
