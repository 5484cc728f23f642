"""Input contracts of the 164 HumanEval tasks (merged from the per-range modules)."""

from __future__ import annotations

from tasks.contracts import Contract
from tasks.contracts.humaneval_000_040 import CONTRACTS as _A
from tasks.contracts.humaneval_041_081 import CONTRACTS as _B
from tasks.contracts.humaneval_082_122 import CONTRACTS as _C
from tasks.contracts.humaneval_123_163 import CONTRACTS as _D

CONTRACTS: dict[str, Contract] = {**_A, **_B, **_C, **_D}
