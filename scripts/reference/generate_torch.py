"""Plain-PyTorch greedy decoding with a key/value cache, batched, for `bench_torch.py --mode
generate`: the baseline flan-tune's batched decoder is compared against. Works on the
parameter dicts of gpt2_ref.py and llama_ref.py (fp32).

A batch of prompts is left-padded to its longest prompt; position ids count real tokens
only (HF's convention: cumsum(mask) - 1), pad keys are masked out, and the cache is
preallocated [B, KV, prompt + new, hd] per layer, written in place at each step. The
prompt goes through in one forward pass; each new token is one position for every row.
Every row runs to `new_tokens` (no stop token), as on the flan-tune side.
"""

import math

import torch
import torch.nn.functional as F


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


class Model:
    """One forward over [B, T] new tokens at given positions, appending k/v to the cache."""

    def __init__(self, params, cfg, arch):
        self.p, self.cfg, self.arch = params, cfg, arch
        if arch == "gpt2":
            self.L, self.H = cfg.n_layer, cfg.n_head
            self.KV, self.hd = cfg.n_head, cfg.n_embd // cfg.n_head
            self.eps = cfg.layer_norm_epsilon
            self.head = params["wte.weight"] if cfg.tie_word_embeddings else params["lm_head.weight"]
        else:
            self.L, self.H = cfg.num_hidden_layers, cfg.num_attention_heads
            self.KV, self.hd = cfg.num_key_value_heads, cfg.head_dim
            self.eps = cfg.rms_norm_eps
            self.head = (params["model.embed_tokens.weight"] if cfg.tie_word_embeddings
                         else params["lm_head.weight"])
            import llama_ref
            self.inv_freq = llama_ref.rope_inv_freq(cfg).to(torch.float32)
            # Fused q|k|v and gate|up weights, as an efficient plain-PyTorch loop would keep them.
            self.qkv, self.qkv_b, self.gu = [], [], []
            for i in range(self.L):
                n = f"model.layers.{i}."
                self.qkv.append(torch.cat([params[n + f"self_attn.{x}_proj.weight"]
                                           for x in "qkv"]).T.contiguous())
                b = [params.get(n + f"self_attn.{x}_proj.bias") for x in "qkv"]
                self.qkv_b.append(torch.cat(b) if b[0] is not None else None)
                self.gu.append(torch.cat([params[n + "mlp.gate_proj.weight"],
                                          params[n + "mlp.up_proj.weight"]]).T.contiguous())
            self.o = [params[f"model.layers.{i}.self_attn.o_proj.weight"].T.contiguous()
                      for i in range(self.L)]
            self.down = [params[f"model.layers.{i}.mlp.down_proj.weight"].T.contiguous()
                         for i in range(self.L)]
            self.o_b = [params.get(f"model.layers.{i}.self_attn.o_proj.bias")
                        for i in range(self.L)]
            self.down_b = [params.get(f"model.layers.{i}.mlp.down_proj.bias")
                           for i in range(self.L)]
            self.gu_b = []
            for i in range(self.L):
                b = [params.get(f"model.layers.{i}.mlp.{x}_proj.bias") for x in ("gate", "up")]
                self.gu_b.append(torch.cat(b) if b[0] is not None else None)

    def new_cache(self, B, T):
        return [(torch.zeros(B, self.KV, T, self.hd), torch.zeros(B, self.KV, T, self.hd))
                for _ in range(self.L)]

    def forward(self, ids, pos, cache, start, key_mask):
        """ids, pos [B, T]; writes cache[:, :, start:start+T]; key_mask [B, start+T] bool
        (True = a real token). Returns the last position's logits [B, V]."""
        B, T = ids.shape
        end = start + T
        causal = torch.ones(T, end, dtype=torch.bool).tril(diagonal=start)
        # A pad query attends to itself only, so that its (unused) row stays finite.
        own = torch.arange(end)[None, :] == (start + torch.arange(T))[:, None]
        mask = causal[None] & (key_mask[:, None, :end] | own[None])  # [B, T, end]
        G = self.H // self.KV
        mask = mask[:, None].repeat(1, 1, G, 1)  # [B, 1, G*T, end]: query head h -> KV h // G
        H, KV, hd, p = self.H, self.KV, self.hd, self.p
        if self.arch == "gpt2":
            x = p["wte.weight"][ids] + p["wpe.weight"][pos]
        else:
            x = p["model.embed_tokens.weight"][ids]
            angle = pos.to(torch.float32)[..., None] * self.inv_freq
            emb = torch.cat([angle, angle], dim=-1)
            cos, sin = emb.cos()[:, None], emb.sin()[:, None]  # [B, 1, T, hd]
        for i in range(self.L):
            if self.arch == "gpt2":
                n = lambda s: p[f"h.{i}.{s}"]  # noqa: E731
                h = F.layer_norm(x, (x.shape[-1],), n("ln_1.weight"), n("ln_1.bias"), self.eps)
                qkv = torch.addmm(n("attn.c_attn.bias"), h.view(B * T, -1), n("attn.c_attn.weight"))
            else:
                n = f"model.layers.{i}."
                h = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) \
                    * p[n + "input_layernorm.weight"]
                qkv = h.view(B * T, -1) @ self.qkv[i]
                if self.qkv_b[i] is not None:
                    qkv = qkv + self.qkv_b[i]
            q, k, v = qkv.view(B, T, -1).split([H * hd, KV * hd, KV * hd], dim=-1)
            q = q.view(B, T, H, hd).transpose(1, 2)
            k = k.view(B, T, KV, hd).transpose(1, 2)
            v = v.view(B, T, KV, hd).transpose(1, 2)
            if self.arch != "gpt2":
                half = hd // 2
                rot = lambda t: torch.cat([-t[..., half:], t[..., :half]], dim=-1)  # noqa: E731
                q = q * cos + rot(q) * sin
                k = k * cos + rot(k) * sin
            kc, vc = cache[i]
            kc[:, :, start:end] = k
            vc[:, :, start:end] = v
            qg = q.reshape(B, KV, G * T, hd)  # the G query heads of each KV head, stacked
            scores = (qg @ kc[:, :, :end].transpose(-1, -2)) * (1.0 / math.sqrt(hd))
            scores = scores.masked_fill(~mask, float("-inf"))
            a = torch.softmax(scores, dim=-1) @ vc[:, :, :end]  # [B, KV, G*T, hd]
            a = a.view(B, H, T, hd).transpose(1, 2).reshape(B * T, H * hd)
            if self.arch == "gpt2":
                x = x + torch.addmm(n("attn.c_proj.bias"), a, n("attn.c_proj.weight")).view(B, T, -1)
                h = F.layer_norm(x, (x.shape[-1],), n("ln_2.weight"), n("ln_2.bias"), self.eps)
                m = gelu_new(torch.addmm(n("mlp.c_fc.bias"), h.view(B * T, -1), n("mlp.c_fc.weight")))
                x = x + torch.addmm(n("mlp.c_proj.bias"), m, n("mlp.c_proj.weight")).view(B, T, -1)
            else:
                o = a @ self.o[i]
                x = x + (o if self.o_b[i] is None else o + self.o_b[i]).view(B, T, -1)
                h = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) \
                    * p[n + "post_attention_layernorm.weight"]
                gu = h.view(B * T, -1) @ self.gu[i]
                g, u = (gu if self.gu_b[i] is None else gu + self.gu_b[i]).chunk(2, dim=-1)
                d = F.silu(g) * u @ self.down[i]
                x = x + (d if self.down_b[i] is None else d + self.down_b[i]).view(B, T, -1)
        last = x[:, -1]
        if self.arch == "gpt2":
            last = F.layer_norm(last, (last.shape[-1],), p["ln_f.weight"], p["ln_f.bias"], self.eps)
        else:
            last = last * torch.rsqrt(last.pow(2).mean(-1, keepdim=True) + self.eps) \
                * p["model.norm.weight"]
        return last @ self.head.T


def generate(model, prompts, new_tokens):
    """Greedy continuations [len(prompts), new_tokens] of a list of token-id lists, decoded
    together (left padding)."""
    B, P = len(prompts), max(len(x) for x in prompts)
    ids = torch.zeros(B, P, dtype=torch.long)
    key_mask = torch.zeros(B, P + new_tokens, dtype=torch.bool)
    for r, x in enumerate(prompts):
        ids[r, P - len(x):] = torch.tensor(x)
        key_mask[r, P - len(x):] = True
    key_mask[:, P:] = True  # generated tokens (the causal mask hides them until written)
    pos = (key_mask[:, :P].long().cumsum(-1) - 1).clamp(min=0)
    cache = model.new_cache(B, P + new_tokens)
    out = torch.empty(B, new_tokens, dtype=torch.long)
    with torch.inference_mode():
        logits = model.forward(ids, pos, cache, 0, key_mask)
        nxt = pos[:, -1] + 1
        for t in range(new_tokens):
            tok = logits.argmax(-1)
            out[:, t] = tok
            if t == new_tokens - 1:
                break
            logits = model.forward(tok[:, None], nxt[:, None], cache, P + t, key_mask)
            nxt = nxt + 1
    return out
