"""Hand-written safetensors reader/writer (no `safetensors` package exists here).

Format, as the Java reader must also implement it:
  * 8 bytes: little-endian u64 N = length of the JSON header in bytes;
  * N bytes: UTF-8 JSON object {name: {"dtype", "shape", "data_offsets": [begin, end]}}
    plus an optional "__metadata__": {str: str}; we pad it with spaces so that
    the data section starts at a multiple of 8 (what the reference writer does);
  * the data section: raw little-endian, row-major tensors. Offsets are relative
    to the start of the data section, not to the start of the file.

Tensors come back as torch tensors: floating dtypes are widened to the caller's
`float_dtype` (float64 by default, since the reference computes in float64);
integer dtypes are kept as int64.
"""

import json
import struct

import numpy as np
import torch

# dtype name -> (numpy little-endian dtype used to read the raw bytes, bytes per element)
_NP = {
    "F64": ("<f8", 8),
    "F32": ("<f4", 4),
    "F16": ("<f2", 2),
    "BF16": ("<u2", 2),  # no numpy bfloat16: read raw bits, widen by hand
    "I64": ("<i8", 8),
    "I32": ("<i4", 4),
    "I16": ("<i2", 2),
    "I8": ("<i1", 1),
    "U8": ("<u1", 1),
    "BOOL": ("<u1", 1),
}
FLOAT_DTYPES = ("F64", "F32", "F16", "BF16")


def read_header(path):
    """Returns (header dict without __metadata__, metadata dict, data section offset)."""
    with open(path, "rb") as f:
        raw_len = f.read(8)
        if len(raw_len) != 8:
            raise ValueError(f"{path}: shorter than the 8-byte header length")
        (n,) = struct.unpack("<Q", raw_len)
        f.seek(0, 2)
        size = f.tell()
        if n > size - 8:
            raise ValueError(f"{path}: header length {n} exceeds file size {size}")
        f.seek(8)
        header = json.loads(f.read(n).decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    data_start = 8 + n
    data_len = size - data_start
    for name, info in header.items():
        dtype = info["dtype"]
        if dtype not in _NP:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
        b, e = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64)) if info["shape"] else 1
        if not (0 <= b <= e <= data_len) or e - b != count * _NP[dtype][1]:
            raise ValueError(f"{path}: tensor {name}: bad data_offsets {b},{e}")
    return header, meta, data_start


def load(path, float_dtype=torch.float64):
    """Reads every tensor of a .safetensors file into a {name: torch.Tensor} dict."""
    header, meta, data_start = read_header(path)
    with open(path, "rb") as f:
        f.seek(data_start)
        data = f.read()
    out = {}
    for name, info in header.items():
        dtype, shape = info["dtype"], info["shape"]
        b, e = info["data_offsets"]
        arr = np.frombuffer(data[b:e], dtype=_NP[dtype][0])
        if dtype == "BF16":
            # bf16 is the top half of an IEEE float32: shift the bits back into place.
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        if dtype in FLOAT_DTYPES:
            t = torch.from_numpy(arr.astype(np.float64)).to(float_dtype)
        elif dtype == "BOOL":
            t = torch.from_numpy(arr.astype(np.bool_))
        else:
            t = torch.from_numpy(arr.astype(np.int64))
        out[name] = t.reshape(shape)
    return out


def load_metadata(path):
    return read_header(path)[1]


def _to_bytes(t, dtype):
    t = t.detach().cpu().contiguous()
    if dtype == "BF16":
        # torch's float32 -> bfloat16 cast rounds to nearest even, like HF's writers.
        bits = t.to(torch.float32).to(torch.bfloat16).view(torch.int16)
        return bits.numpy().astype("<i2").tobytes()
    np_dtype = _NP[dtype][0]
    if dtype in FLOAT_DTYPES:
        # Round through float32 first so F16 matches a float32 model saved at half precision.
        arr = t.to(torch.float64).numpy()
        if dtype != "F64":
            arr = arr.astype(np.float32)
        return arr.astype(np_dtype).tobytes()
    return t.to(torch.int64).numpy().astype(np_dtype).tobytes()


def save(path, tensors, dtypes=None, default_dtype="F32", metadata=None):
    """Writes {name: tensor} to `path`.

    dtypes: optional {name: "F32"|"F16"|"BF16"|"I32"|...}; others get default_dtype
    (integer tensors default to I32). Tensors are laid out in name order.
    Returns the number of bytes in the data section (HF index "total_size" sums these).
    """
    dtypes = dtypes or {}
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        dtype = dtypes.get(name)
        if dtype is None:
            dtype = default_dtype if t.is_floating_point() else "I32"
        blob = _to_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        chunks.append(blob)
        offset += len(blob)
    if metadata:
        header = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}, **header}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for c in chunks:
            f.write(c)
    return offset
