"""The shipped embedding model, loaded for real: shape, normalisation, determinism, meaning.

The quality thresholds sit a little under what the shipped model measures (see
tools/measure_embedding.py): they catch a broken or much worse model, not noise, and the
model is deterministic so they cannot flake.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from aiops_copilot.memory import SHIPPED_MODEL_DIR, Embedder, EmbeddingModelError

pytest.importorskip("model2vec", reason="model2vec is in the 'memory' extra")

PAIRS = Path(__file__).with_name("similarity_pairs.yaml")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def pairs() -> tuple[list[str], list[str]]:
    data = yaml.safe_load(PAIRS.read_text(encoding="utf-8"))["pairs"]
    return [p["line"] for p in data], [p["related"] for p in data]


def test_identity_is_recorded(embedder: Embedder) -> None:
    assert embedder.dimension == 256
    name, _, checksum = embedder.name.partition("@")
    assert name == "aiops-minilm-l6-v2-m2v256"
    assert len(checksum) == 12


def test_vectors_have_the_declared_shape_and_unit_norm(embedder: Embedder) -> None:
    texts = ["disk full on /var", "Connection refused", "no space left " * 2000, "ünïcödé 日本語"]
    vectors = embedder.embed(texts)
    assert vectors.shape == (4, embedder.dimension)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("texts", [[], [""], ["", "   "], ["x" * 500]])  # x*500: one over-long word
def test_empty_input_gives_zero_rows(embedder: Embedder, texts: list[str]) -> None:
    vectors = embedder.embed(texts)
    assert vectors.shape == (len(texts), embedder.dimension)
    assert not vectors.any()


def test_a_single_string_is_refused(embedder: Embedder) -> None:
    with pytest.raises(TypeError):
        embedder.embed("one string")  # type: ignore[arg-type]


def test_deterministic_across_calls_instances_and_batch_sizes(
    embedder: Embedder, pairs: tuple[list[str], list[str]]
) -> None:
    texts = pairs[0] + pairs[1]
    first = embedder.embed(texts)
    np.testing.assert_array_equal(first, embedder.embed(texts))
    np.testing.assert_array_equal(first, Embedder(batch_size=3).embed(texts))
    np.testing.assert_array_equal(first[5], embedder.embed_one(texts[5]))


def test_related_texts_score_higher_than_unrelated(
    embedder: Embedder, pairs: tuple[list[str], list[str]]
) -> None:
    lines, related = pairs
    sims = embedder.embed(lines) @ embedder.embed(related).T
    n = len(lines)
    positive = np.diag(sims)
    negative = sims[~np.eye(n, dtype=bool)]
    print(f"related mean {positive.mean():.3f}, unrelated mean {negative.mean():.3f}")
    assert positive.mean() - negative.mean() >= 0.15  # measured 0.21
    top3 = sum(int((sims[i] > sims[i, i]).sum()) < 3 for i in range(n))
    assert top3 >= 14  # measured 15 of 20 (the teacher transformer: 18)


@pytest.mark.parametrize(
    ("anchor", "similar", "unrelated"),
    [
        (
            "Deadlock found when trying to get lock; try restarting transaction",
            "MySQL transactions deadlocked on row locks",
            "Kubernetes pod stuck in CrashLoopBackOff",
        ),
        (
            "SSL routines:tls_process_server_certificate:certificate verify failed",
            "TLS handshake fails because the server certificate is not trusted",
            "Disk full: free space on the filesystem",
        ),
        (
            "connect() failed (111: Connection refused) while connecting to upstream",
            "nginx cannot reach the backend server: upstream connection refused",
            "A user entered the wrong password for sudo",
        ),
    ],
)
def test_nearest_of_two(embedder: Embedder, anchor: str, similar: str, unrelated: str) -> None:
    a, s, u = embedder.embed([anchor, similar, unrelated])
    assert float(a @ s) > float(a @ u) + 0.1


def test_missing_model_is_one_clear_line(tmp_path: Path) -> None:
    broken = Embedder(tmp_path / "nowhere")
    with pytest.raises(EmbeddingModelError) as info:
        broken.embed(["anything"])
    message = str(info.value)
    assert "\n" not in message
    assert "embedding model missing" in message


def _copy_model(tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL_DIR, target)
    return target


def test_truncated_weights_are_caught_by_checksum(tmp_path: Path) -> None:
    folder = _copy_model(tmp_path)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(EmbeddingModelError, match="corrupt") as info:
        Embedder(folder).embed(["anything"])
    assert "\n" not in str(info.value)


def test_corrupt_weights_without_provenance_fail_on_load(tmp_path: Path) -> None:
    folder = _copy_model(tmp_path)
    (folder / "distill_info.json").unlink()
    (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    embedder = Embedder(folder)
    assert embedder.dimension == 256  # from config.json
    with pytest.raises(EmbeddingModelError, match="corrupt") as info:
        embedder.embed(["anything"])
    assert "\n" not in str(info.value)


def test_runs_without_torch_or_transformers() -> None:
    """The point of a static model: embedding must not drag in torch (it is not installed
    in the project's environment; this guards against a dependency sneaking it in)."""
    code = (
        "import sys\n"
        "from aiops_copilot.memory import Embedder\n"
        "Embedder().embed(['hello'])\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_shipped_model_opened_directly_embeds_exactly_as_model2vec_loads_it() -> None:
    """The direct opening skips model2vec's loader for start-up speed; it must not change a
    single vector, or stored memories would no longer match new queries."""
    from model2vec import StaticModel

    from aiops_copilot.memory.embedding import _open_shipped_layout

    direct = _open_shipped_layout(StaticModel, SHIPPED_MODEL_DIR.resolve())
    loaded = StaticModel.from_pretrained(SHIPPED_MODEL_DIR.resolve(), force_download=False)
    assert direct is not None
    texts = [
        "connection refused to postgres at 10.0.0.1:5432",
        "Out of memory: Killed process 4242 (java) total-vm:8123456kB",
        "ünïcödé тест 日本語",
        "word " * 2000,  # past max_length: truncated the same way
        "",
    ]
    assert np.array_equal(direct.encode(texts), loaded.encode(texts))
    assert (direct.dim, direct.normalize, direct.config) == (
        loaded.dim,
        loaded.normalize,
        loaded.config,
    )


def test_a_folder_that_is_not_the_plain_layout_falls_back_to_the_loader(tmp_path: Path) -> None:
    from model2vec import StaticModel

    from aiops_copilot.memory.embedding import _open_shipped_layout

    assert _open_shipped_layout(StaticModel, tmp_path) is None
