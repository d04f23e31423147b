#!/usr/bin/env python3
"""Exports all-MiniLM-L6-v2 to ONNX for the transformers.js reference figures.

scripts/bench_transformersjs.sh runs it; it is a reference-figure tool, never CI (it needs
PyTorch). From the checkpoint dir that scripts/setup.sh fetches (config.json, model.safetensors,
tokenizer.json), it writes the layout transformers.js loads locally:

    OUT/config.json, tokenizer.json, tokenizer_config.json
    OUT/onnx/model.onnx            f32, inputs input_ids / attention_mask / token_type_ids
                                   [batch, seq] int64, output last_hidden_state [batch, seq, 384]
    OUT/onnx/model_quantized.onnx  int8 weights (onnxruntime's dynamic quantisation), as the
                                   Hugging Face hub's Xenova/all-MiniLM-L6-v2 ships

and checks the f32 export against PyTorch with onnxruntime (max abs difference < 1e-4).

    ~/.cache/nuner-fixtures-venv/bin/python scripts/export_onnx.py \\
        --model .cache/models/all-MiniLM-L6-v2 --out ~/.cache/nuner-transformersjs/models/all-MiniLM-L6-v2
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

NAMES = ["input_ids", "attention_mask", "token_type_ids"]


class LastHidden(torch.nn.Module):
    """BertModel returning only last_hidden_state, as transformers.js's feature extraction reads."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="all-MiniLM-L6-v2 checkpoint dir (scripts/setup.sh)")
    ap.add_argument("--out", required=True, help="output dir (transformers.js layout)")
    args = ap.parse_args()
    from transformers import BertModel

    src, out = Path(args.model), Path(args.out)
    (out / "onnx").mkdir(parents=True, exist_ok=True)
    model = LastHidden(BertModel.from_pretrained(src, dtype=torch.float32, attn_implementation="eager").eval())
    ids = torch.tensor([[101, 7592, 2088, 1010, 2023, 2003, 1037, 3231, 102, 0]])
    mask = (ids != 0).long()
    types = torch.zeros_like(ids)
    f32 = out / "onnx" / "model.onnx"
    axes = {n: {0: "batch", 1: "seq"} for n in NAMES} | {"last_hidden_state": {0: "batch", 1: "seq"}}
    torch.onnx.export(model, (ids, mask, types), f32, input_names=NAMES, output_names=["last_hidden_state"],
                      dynamic_axes=axes, opset_version=18, dynamo=True, external_data=False)  # the legacy
    # TorchScript exporter bakes transformers 5's mask code into constants (off by 1.2 here)

    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The traced input, and another batch size and length with padding: the axes must stay dynamic.
    session = ort.InferenceSession(str(f32))
    other = torch.randint(1000, 30000, (3, 21), generator=torch.Generator().manual_seed(0))
    other[:, 0], other[1, 15:], other[2, 4:] = 101, 0, 0
    diff = 0.0
    for x in (ids, other):
        m, t = (x != 0).long(), torch.zeros_like(x)
        with torch.inference_mode():
            expected = model(x, m, t).numpy()
        got = session.run(None, {n: v.numpy() for n, v in zip(NAMES, (x, m, t))})[0]
        diff = max(diff, float(np.abs(got - expected)[m.numpy() == 1].max()))
    assert diff < 1e-4, f"ONNX export differs from PyTorch by {diff}"
    quantize_dynamic(f32, out / "onnx" / "model_quantized.onnx", weight_type=QuantType.QInt8)

    shutil.copy(src / "config.json", out / "config.json")
    shutil.copy(src / "tokenizer.json", out / "tokenizer.json")
    config = src / "tokenizer_config.json"
    if config.exists():
        shutil.copy(config, out / "tokenizer_config.json")
    else:  # what transformers.js needs to pick the tokenizer class
        (out / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": True,
                                                               "model_max_length": 512}))
    print(json.dumps({"onnx": str(f32), "max_abs_diff_vs_torch": diff}))


if __name__ == "__main__":
    main()
