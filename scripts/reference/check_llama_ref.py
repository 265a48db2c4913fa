#!/usr/bin/python3
"""Checks llama_ref.py against things that share none of its tensor code:

  1. naive_forward: the same model written per position, per head, per rotation pair
     with Python loops and scalar RoPE/llama3 formulas (no rotate_half, no repeat_kv,
     no batched masks). Compared on every fixture-like configuration.
  2. RoPE relative-position identity: rope(q, m+s) . rope(k, n+s) == rope(q, m) . rope(k, n)
     for every scaling type (a rotation, whatever the frequencies).
  3. torch.autograd.gradcheck of the loss on a tiny model with every option on
     (GQA, q/k/v/o and MLP biases, llama3 scaling, explicit head_dim, untied head, packing).

  /usr/bin/python3 scripts/reference/check_llama_ref.py
Prints one line per check; exits 1 if any fails. make_llama_parity_fixtures.py also
calls naive_forward on every case and records the difference in case.json.
"""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_ref as ref  # noqa: E402


def naive_inv_freq(cfg):
    """Scalar transcription of the RoPE frequency rules, one frequency at a time."""
    out = []
    hd = cfg.head_dim
    for i in range(hd // 2):
        f = 1.0 / (cfg.rope_theta ** (2 * i / hd))
        if cfg.rope_type == "linear":
            f = f / cfg.rope["factor"]
        elif cfg.rope_type == "llama3":
            r = cfg.rope
            wavelen = 2 * math.pi / f
            if wavelen < r["original_max_position_embeddings"] / r["high_freq_factor"]:
                pass  # high frequency: unchanged
            elif wavelen > r["original_max_position_embeddings"] / r["low_freq_factor"]:
                f = f / r["factor"]
            else:
                s = ((r["original_max_position_embeddings"] / wavelen - r["low_freq_factor"])
                     / (r["high_freq_factor"] - r["low_freq_factor"]))
                f = (1 - s) * f / r["factor"] + s * f
        out.append(f)
    return out


def naive_rope(vec, pos, freqs):
    """Rotates pairs (i, i + hd/2) of one head vector by pos * freqs[i]."""
    half = len(freqs)
    out = vec.clone()
    for i in range(half):
        c, s = math.cos(pos * freqs[i]), math.sin(pos * freqs[i])
        a, b = vec[i], vec[i + half]
        out[i] = a * c - b * s
        out[i + half] = b * c + a * s
    return out


def naive_forward(params, cfg, input_ids, attention_mask=None, segment_ids=None,
                  position_ids=None):
    ids = torch.as_tensor(input_ids, dtype=torch.long)
    B, T = ids.shape
    H, KV, hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    group = H // KV
    freqs = naive_inv_freq(cfg)
    P = params
    seg = None if segment_ids is None else torch.as_tensor(segment_ids)
    am = None if attention_mask is None else torch.as_tensor(attention_mask)
    pos = torch.as_tensor(position_ids)

    def lin(v, name):
        w = P[name + ".weight"]
        y = torch.stack([torch.dot(w[o], v) for o in range(w.shape[0])])
        return y + P[name + ".bias"] if name + ".bias" in P else y

    def norm(v, w):
        ms = sum(float(e) ** 2 for e in v) / len(v)
        return w * v / math.sqrt(ms + cfg.rms_norm_eps)

    def visible(b, t, s):
        if s > t:
            return False
        if seg is not None:
            return int(seg[b, s]) != 0 and int(seg[b, s]) == int(seg[b, t])
        return am is None or float(am[b, s]) > 0

    logits = torch.zeros(B, T, cfg.vocab_size, dtype=P["model.embed_tokens.weight"].dtype)
    for b in range(B):
        xs = [P["model.embed_tokens.weight"][int(ids[b, t])].clone() for t in range(T)]
        for layer in range(cfg.num_hidden_layers):
            p = f"model.layers.{layer}."
            hs = [norm(x, P[p + "input_layernorm.weight"]) for x in xs]
            qs = [lin(h, p + "self_attn.q_proj") for h in hs]
            ks = [lin(h, p + "self_attn.k_proj") for h in hs]
            vs = [lin(h, p + "self_attn.v_proj") for h in hs]
            new = []
            for t in range(T):
                heads = []
                for h in range(H):
                    g = h // group
                    q = naive_rope(qs[t][h * hd:(h + 1) * hd], int(pos[b, t]), freqs)
                    keys = [s for s in range(T) if visible(b, t, s)] or list(range(T))
                    sc = []
                    for s in keys:
                        k = naive_rope(ks[s][g * hd:(g + 1) * hd], int(pos[b, s]), freqs)
                        sc.append(float(torch.dot(q, k)) / math.sqrt(hd))
                    mx = max(sc)
                    w = [math.exp(z - mx) for z in sc]
                    tot = sum(w)
                    out = sum((wi / tot) * vs[s][g * hd:(g + 1) * hd] for wi, s in zip(w, keys))
                    heads.append(out)
                new.append(xs[t] + lin(torch.cat(heads), p + "self_attn.o_proj"))
            xs = new
            out = []
            for x in xs:
                h = norm(x, P[p + "post_attention_layernorm.weight"])
                gate, up = lin(h, p + "mlp.gate_proj"), lin(h, p + "mlp.up_proj")
                m = torch.tensor([float(a) / (1 + math.exp(-float(a))) * float(u)
                                  for a, u in zip(gate, up)], dtype=x.dtype)
                out.append(x + lin(m, p + "mlp.down_proj"))
            xs = out
        head = (P["model.embed_tokens.weight"] if cfg.tie_word_embeddings
                else P["lm_head.weight"])
        for t in range(T):
            h = norm(xs[t], P["model.norm.weight"])
            logits[b, t] = torch.stack([torch.dot(head[v], h) for v in range(head.shape[0])])
    return logits


def rope_relative_check(cfg, trials=20, seed=0):
    """Max |rope(q,m+s).rope(k,n+s) - rope(q,m).rope(k,n)| over random q, k, m, n, s,
    using llama_ref's own rope_cos_sin/rotate_half."""
    g = torch.Generator().manual_seed(seed)
    hd = cfg.head_dim
    worst = 0.0
    for _ in range(trials):
        q = torch.randn(hd, generator=g, dtype=torch.float64)
        k = torch.randn(hd, generator=g, dtype=torch.float64)
        m, n, s = (int(x) for x in torch.randint(0, 64, (3,), generator=g))

        def rot(v, p):
            cos, sin = ref.rope_cos_sin(cfg, torch.tensor([[p]]), torch.float64)
            return v * cos[0, 0] + ref.rotate_half(v) * sin[0, 0]

        a = torch.dot(rot(q, m), rot(k, n))
        b = torch.dot(rot(q, m + s), rot(k, n + s))
        worst = max(worst, abs(float(a - b)))
    return worst


TINY = {"model_type": "llama", "vocab_size": 11, "hidden_size": 8, "intermediate_size": 12,
        "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
        "head_dim": 6, "rms_norm_eps": 1e-5, "attention_bias": True, "mlp_bias": True,
        "tie_word_embeddings": False, "rope_theta": 10000.0, "max_position_embeddings": 64,
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 32}}


def gradcheck_tiny():
    cfg = ref.LlamaConfig(TINY)
    params = ref.init_params(cfg, seed=5, std=0.5, perturb=0.2)
    names = list(params)
    ids = torch.tensor([[1, 4, 7, 2, 9, 3], [5, 5, 0, 10, 6, 8]])
    seg = torch.tensor([[1, 1, 1, 2, 2, 0], [1, 1, 1, 1, 1, 1]])
    pos = ref.positions_from_segments(seg)
    labels = torch.roll(ids, -1, dims=1)
    mask = torch.tensor([[1., 1., 0., 1., 0., 0.], [0., 1., 1., 1., 1., 0.]], dtype=torch.float64)

    def loss(*tensors):
        p = dict(zip(names, tensors))
        return ref.masked_loss(ref.forward(p, cfg, ids, segment_ids=seg, position_ids=pos),
                               labels, mask)

    inputs = tuple(params[n].clone().requires_grad_(True) for n in names)
    ok = torch.autograd.gradcheck(loss, inputs, eps=1e-6, atol=1e-8, rtol=1e-6)
    return ok, len(names), sum(t.numel() for t in inputs)


def main():
    torch.set_num_threads(1)
    failures = 0
    # Naive loop vs llama_ref on the fixture configurations.
    import make_llama_parity_fixtures as fx
    for name, spec in fx.CASES.items():
        cfg = ref.LlamaConfig(spec["config"])
        params = ref.init_params(cfg, seed=spec["seed"], std=fx.INIT["std"],
                                 perturb=fx.INIT["perturb"])
        batch = fx.make_batch(spec, cfg)[0]
        d = (naive_forward(params, cfg, **batch) - ref.forward(params, cfg, **batch)).abs()
        real = batch.get("attention_mask")
        if real is None:
            real = (batch["segment_ids"] != 0)
        err = d[real.bool()].max().item()
        failures += err > 1e-10
        print(f"naive loop vs llama_ref [{name}]: max |logit diff| on real tokens {err:.3e}")
    for rope in ({}, {"type": "linear", "factor": 2.0},
                 {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                  "high_freq_factor": 4.0, "original_max_position_embeddings": 32}):
        cfg = ref.LlamaConfig(dict(TINY, head_dim=16, rope_scaling=rope or None))
        err = rope_relative_check(cfg)
        failures += err > 1e-12
        print(f"RoPE relative-position identity [{cfg.rope_type}]: max error {err:.3e}")
    ok, n, count = gradcheck_tiny()
    failures += not ok
    print(f"torch.autograd.gradcheck (tiny, all options, packed): {'passed' if ok else 'FAILED'} "
          f"on {n} tensors / {count} parameters")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
