"""A tiny, deterministic GPT-2 causal LM built offline, for tests of the ``hf`` model backend.

``build_tiny_lm(out_dir)`` trains a byte-level BPE tokenizer on the repo's own Python
sources, builds a 2-layer GPT-2 with fixed random weights (``torch.manual_seed(0)``) and
saves both with ``save_pretrained``, so ``create_model(f"hf:{out_dir}")`` loads it with no
hub. The weights are random: the model's text is gibberish, but deterministic.

Special tokens: ``<|endoftext|>`` (bos and eos), ``<|pad|>`` (pad, distinct from eos) and
the chat markers :data:`CHAT_MARKERS`, which :data:`CHAT_TEMPLATE` writes.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EOS = "<|endoftext|>"
PAD = "<|pad|>"
CHAT_MARKERS = ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>")
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
"""A minimal chat template over :data:`CHAT_MARKERS` (pass it as ``chat_template``)."""


def _corpus() -> list[Path]:
    files = sorted((REPO / "harness").glob("*.py")) + sorted((REPO / "tasks").glob("*.py"))
    if not files:
        raise FileNotFoundError(f"no Python sources under {REPO}/harness or {REPO}/tasks to train the tokenizer on")
    return files


def build_tiny_lm(out_dir: Path, chat_template: str | None = None, n_positions: int = 1024, vocab_size: int = 1500) -> Path:
    """Build and save a tiny GPT-2 model and its tokenizer into ``out_dir``.

    Args:
        out_dir: directory to write (created if missing).
        chat_template: Jinja chat template for the tokenizer (e.g. :data:`CHAT_TEMPLATE`); None leaves
            the tokenizer without one.
        n_positions: the model's context length (max positions).
        vocab_size: BPE vocabulary size to train.

    Returns:
        ``out_dir``, ready for ``AutoModelForCausalLM.from_pretrained``.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS, PAD, *CHAT_MARKERS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train([str(p) for p in _corpus()], trainer)

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token=EOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=list(CHAT_MARKERS),
        padding_side="left",
        model_max_length=n_positions,
    )
    if chat_template is not None:
        tokenizer.chat_template = chat_template

    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=n_positions,
        n_embd=64,
        n_layer=2,
        n_head=2,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
