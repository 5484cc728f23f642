"""Training the student: a linear probe on frozen embeddings, or a fine-tuned encoder with a linear head.

Methods (``METHODS``):

- ``naive``: cross-entropy against the weak soft labels.
- ``aux-conf``: the auxiliary confidence loss (:mod:`bench.w2s.losses`).
- ``bootstrap``: through an intermediate, cheaper student. The intermediate is a linear
  probe on the first ``bootstrap_dims`` principal components of the (standardised) frozen
  embeddings, trained with ``naive`` on the weak labels with **cross-fitting by task**:
  train tasks are split into ``bootstrap_folds`` seeded folds, and each fold is labelled
  by the probe trained on the other folds, so no label comes from a model that saw that
  candidate's weak label. Its out-of-fold p_buggy are the final student's (soft) labels;
  the final student is trained on them with ``naive``. Its test predictions (the mean of
  the fold probes) are reported as ``intermediate``.

The probe standardises features with the training mean and standard deviation, and is
trained with AdamW on shuffled mini-batches (a seeded ``torch.Generator``; the last
partial batch of an epoch is dropped so the aux-conf threshold never sees a one-item
batch), on one torch thread. Everything runs under ``torch.manual_seed(seed)`` with
``torch.use_deterministic_algorithms(True)`` (restored afterwards).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from bench.w2s.data import W2SError
from bench.w2s.losses import ALPHA_MAX, WARMUP_FRAC, batch_loss

METHODS = ("naive", "aux-conf", "bootstrap")
PROBE_EPOCHS = 100
FINETUNE_EPOCHS = 2


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of the student's training (recorded in the manifest).

    Attributes:
        epochs: passes over the training set.
        batch_size: candidates per step.
        lr: learning rate of the probe / of the classification head.
        weight_decay: AdamW weight decay.
        alpha_max: aux-conf: final weight of the student's hardened predictions.
        warmup_frac: aux-conf: share of the steps over which alpha ramps up linearly.
        bootstrap_dims: bootstrap: principal components the intermediate probe reads.
        bootstrap_folds: bootstrap: cross-fitting folds (by task) of the intermediate probe.
        base_lr: fine-tuning only: learning rate of the pretrained weights.
    """

    epochs: int = PROBE_EPOCHS
    batch_size: int = 32
    lr: float = 1e-2
    weight_decay: float = 1e-2
    alpha_max: float = ALPHA_MAX
    warmup_frac: float = WARMUP_FRAC
    bootstrap_dims: int = 32
    bootstrap_folds: int = 2
    base_lr: float = 5e-5

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    """The methods, validated and without duplicates (order kept).

    Raises:
        W2SError: an unknown method, or none.
    """
    out: list[str] = []
    for m in methods:
        if m not in METHODS:
            raise W2SError(f"unknown method {m!r}; methods: {', '.join(METHODS)}")
        if m not in out:
            out.append(m)
    if not out:
        raise W2SError(f"no method given; methods: {', '.join(METHODS)}")
    return tuple(out)


@contextmanager
def deterministic(seed: int) -> Iterator[None]:
    """Seed torch and switch on deterministic algorithms for the duration (previous mode restored)."""
    import torch

    prev = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev, warn_only=prev_warn)


@contextmanager
def single_thread() -> Iterator[None]:
    """One intra-op torch thread for the duration: a probe's tiny matmuls only lose to thread contention."""
    import torch

    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(prev)


def _steps(n: int, batch_size: int) -> tuple[int, int]:
    bs = max(1, min(batch_size, n))
    return bs, max(1, n // bs)


@dataclass(frozen=True)
class Probe:
    """A fitted linear probe: standardisation, optional projection, weights."""

    mean: np.ndarray
    scale: np.ndarray
    weight: np.ndarray
    bias: float
    projection: np.ndarray | None = None

    def features(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        return z @ self.projection if self.projection is not None else z

    def predict(self, x: np.ndarray) -> np.ndarray:
        """p_buggy per row of ``x``."""
        logits = self.features(x) @ self.weight + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -60, 60)))


def _standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training mean and standard deviation per feature (1 for constant features, which then stay ~0)."""
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(axis=0)
    return x.mean(axis=0), np.where(sd < 1e-6, 1.0, sd)


def _train_linear(feats: np.ndarray, targets: np.ndarray, method: str, cfg: TrainConfig,
                  seed: int) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic head on fixed features, trained with ``method``'s loss."""
    import torch

    x = torch.tensor(feats, dtype=torch.float32)
    y = torch.tensor(np.asarray(targets, dtype=np.float64), dtype=torch.float32)
    loss_method = "aux-conf" if method == "aux-conf" else "naive"
    with deterministic(seed), single_thread():
        head = torch.nn.Linear(x.shape[1], 1)
        opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        gen = torch.Generator().manual_seed(seed)
        bs, per_epoch = _steps(len(y), cfg.batch_size)
        total, step = cfg.epochs * per_epoch, 0
        for _ in range(cfg.epochs):
            perm = torch.randperm(len(y), generator=gen)
            for k in range(per_epoch):
                idx = perm[k * bs : (k + 1) * bs]
                loss = batch_loss(loss_method, head(x[idx]).squeeze(-1), y[idx], step / total,
                                  cfg.alpha_max, cfg.warmup_frac)
                opt.zero_grad()
                loss.backward()
                opt.step()
                step += 1
        return head.weight.detach().double().numpy()[0], float(head.bias.detach().double().item())


def fit_probe(x: np.ndarray, targets: np.ndarray, method: str, cfg: TrainConfig, seed: int) -> Probe:
    """A logistic probe on standardised ``x`` trained against ``targets`` (probabilities) with ``method``'s loss.

    ``bootstrap`` is not a loss: here it trains like ``naive`` (see :func:`bootstrap_labels`).
    """
    mean, scale = _standardiser(x)
    probe = Probe(mean, scale, np.zeros(1), 0.0)
    w, b = _train_linear(probe.features(x), targets, method, cfg, seed)
    return Probe(mean, scale, w, b)


def task_folds(task_ids: Sequence[str], folds: int, seed: int) -> np.ndarray:
    """Fold number per item: tasks in a seeded permutation, dealt round-robin into ``folds`` folds.

    Raises:
        W2SError: fewer tasks than folds.
    """
    tasks = sorted(set(task_ids))
    if len(tasks) < folds:
        raise W2SError(f"bootstrap cross-fits over {folds} folds by task but the train candidates span only "
                       f"{len(tasks)} task(s); raise --limit-train")
    perm = np.random.default_rng(seed).permutation(len(tasks))
    fold_of = {tasks[j]: i % folds for i, j in enumerate(perm)}
    return np.array([fold_of[t] for t in task_ids], dtype=int)


def bootstrap_labels(x_train: np.ndarray, weak: np.ndarray, task_ids: Sequence[str], x_test: np.ndarray,
                     cfg: TrainConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The intermediate student's out-of-fold p_buggy on train, and its p_buggy on test (mean over folds)."""
    from sklearn.decomposition import PCA

    mean, scale = _standardiser(x_train)
    z = (np.asarray(x_train, dtype=np.float64) - mean) / scale
    k = max(1, min(cfg.bootstrap_dims, z.shape[1], z.shape[0] - 1))
    pca = PCA(n_components=k, svd_solver="full", random_state=seed).fit(z)
    # Fold the PCA centring into the standardiser so Probe.features stays (x - mean) / scale @ projection.
    projection = pca.components_.T / np.sqrt(np.maximum(pca.explained_variance_, 1e-12))
    mean = mean + pca.mean_ * scale
    fold = task_folds(task_ids, cfg.bootstrap_folds, seed)
    oof = np.zeros(len(weak))
    test = np.zeros(len(x_test))
    for f in range(cfg.bootstrap_folds):
        tr = fold != f
        stub = Probe(mean, scale, np.zeros(1), 0.0, projection)
        w, b = _train_linear(stub.features(x_train[tr]), weak[tr], "naive", cfg, seed)
        probe = Probe(mean, scale, w, b, projection)
        oof[~tr] = probe.predict(x_train[~tr])
        test += probe.predict(x_test) / cfg.bootstrap_folds
    return oof, test


def finetune(encoder: Any, train_tokens: Sequence[Sequence[int]], targets: np.ndarray,
             test_tokens: Sequence[Sequence[int]], method: str, cfg: TrainConfig, seed: int) -> np.ndarray:
    """Fine-tune a copy of ``encoder``'s model with a linear head on pooled states; p_buggy on the test tokens.

    ``encoder`` is a :class:`bench.w2s.students.HFEncoder`; the pretrained weights get
    ``cfg.base_lr``, the fresh head ``cfg.lr``. ``bootstrap`` trains like ``naive`` here.
    """
    import torch

    _, base = encoder.load()
    loss_method = "aux-conf" if method == "aux-conf" else "naive"
    y = torch.tensor(np.asarray(targets, dtype=np.float64), dtype=torch.float32)
    with deterministic(seed):
        model = copy.deepcopy(base)
        model.train()
        head = torch.nn.Linear(encoder.hidden_size, 1).to(encoder.device)
        opt = torch.optim.AdamW([{"params": list(model.parameters()), "lr": cfg.base_lr},
                                 {"params": list(head.parameters()), "lr": cfg.lr}], weight_decay=cfg.weight_decay)
        gen = torch.Generator().manual_seed(seed)
        bs, per_epoch = _steps(len(train_tokens), cfg.batch_size)
        total, step = cfg.epochs * per_epoch, 0
        for _ in range(cfg.epochs):
            perm = torch.randperm(len(train_tokens), generator=gen).tolist()
            for k in range(per_epoch):
                idx = perm[k * bs : (k + 1) * bs]
                input_ids, mask = encoder.collate([train_tokens[i] for i in idx])
                logits = head(encoder.forward(model, input_ids, mask)).squeeze(-1).float().cpu()
                loss = batch_loss(loss_method, logits, y[idx], step / total, cfg.alpha_max, cfg.warmup_frac)
                opt.zero_grad()
                loss.backward()
                opt.step()
                step += 1
        model.eval()
        out = np.zeros(len(test_tokens))
        order = sorted(range(len(test_tokens)), key=lambda i: (len(test_tokens[i]), i))
        with torch.inference_mode():
            for start in range(0, len(order), max(1, encoder.batch_size)):
                idx = order[start : start + encoder.batch_size]
                input_ids, mask = encoder.collate([test_tokens[i] for i in idx])
                z = head(encoder.forward(model, input_ids, mask)).squeeze(-1).double().cpu().numpy()
                out[idx] = 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))
    del model
    return out
