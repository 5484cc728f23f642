"""Training losses of the student: plain cross-entropy and the auxiliary confidence loss.

The student emits one logit ``z`` per candidate; ``p = sigmoid(z)`` is its p_buggy. Targets
are probabilities in [0, 1] (soft weak labels, or 0/1 truth for the ceiling).

Auxiliary confidence loss (Burns et al. 2023, "Weak-to-strong generalization", eq. 1)::

    L_conf = (1 - a) * CE(p, y_weak) + a * CE(p, hard(p))

which, CE being linear in its target, equals ``CE(p, (1 - a) * y_weak + a * hard(p))``.
What is implemented, exactly as the authors' released ``logconf_loss_fn`` for two classes:

- ``hard(p)`` is the student's own prediction hardened at an adaptive threshold: with
  ``m`` the mean weak label of the batch, ``t`` = the ``m``-quantile (linear
  interpolation, ``torch.quantile``) of ``1 - p`` over the batch, and ``hard = 1`` where
  ``1 - p < t``. So a share ``m`` of the batch is hardened to buggy, matching the weak
  labels' class balance (on balanced batches, a threshold at the batch median). ``hard``
  carries no gradient.
- ``a`` ramps linearly from 0 to ``alpha_max`` over the first ``warmup_frac`` of training
  steps and stays there (the paper's schedule; the released OpenAI code instead ramps
  ``alpha_max * step_frac`` up to ``alpha_max * warmup_frac`` and then jumps to
  ``alpha_max``; EleutherAI's ``w2s`` reimplementation uses the linear ramp, as here).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

ALPHA_MAX = 0.5
WARMUP_FRAC = 0.2


def alpha_at(step_frac: float, alpha_max: float = ALPHA_MAX, warmup_frac: float = WARMUP_FRAC) -> float:
    """The mixing weight ``a`` after ``step_frac`` (in [0, 1]) of the training steps."""
    if warmup_frac <= 0:
        return alpha_max
    return alpha_max * min(1.0, max(0.0, step_frac) / warmup_frac)


def naive_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of the logits against (soft) targets."""
    return F.binary_cross_entropy_with_logits(logits.float(), targets.float())


def hardened(logits: torch.Tensor, weak: torch.Tensor) -> torch.Tensor:
    """The student's predictions hardened at the adaptive threshold (1.0 = buggy), without gradient."""
    q0 = 1.0 - torch.sigmoid(logits.detach().float())  # the student's p(correct)
    threshold = torch.quantile(q0, weak.float().mean().clamp(0.0, 1.0))
    return (q0 < threshold).float()


def aux_conf_loss(logits: torch.Tensor, weak: torch.Tensor, alpha: float) -> torch.Tensor:
    """``CE(p, (1 - alpha) * weak + alpha * hardened(p))``, averaged over the batch."""
    target = (1.0 - alpha) * weak.float() + alpha * hardened(logits, weak)
    return naive_loss(logits, target)


def batch_loss(method: str, logits: torch.Tensor, targets: torch.Tensor, step_frac: float,
               alpha_max: float = ALPHA_MAX, warmup_frac: float = WARMUP_FRAC) -> Any:
    """The loss of one batch for a training method (``aux-conf``, else plain cross-entropy)."""
    if method == "aux-conf":
        return aux_conf_loss(logits, targets, alpha_at(step_frac, alpha_max, warmup_frac))
    return naive_loss(logits, targets)
