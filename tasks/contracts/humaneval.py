"""Input contracts of the 164 HumanEval tasks (merged from the per-range modules), by version.

:data:`CONTRACTS` is version 1, the contracts suite v1 (``tasks/data/oversightbench-v1``) was
built with. :data:`~tasks.contracts.humaneval_v2.CONTRACTS_V2` is version 2: v1 with 12
contracts narrowed to their docstrings (an overlay; see :mod:`tasks.contracts.humaneval_v2`).
:data:`CONTRACT_SETS` names both; :func:`humaneval_contracts` looks one up by name.
"""

from __future__ import annotations

from tasks.contracts import Contract
from tasks.contracts.humaneval_000_040 import CONTRACTS as _A
from tasks.contracts.humaneval_041_081 import CONTRACTS as _B
from tasks.contracts.humaneval_082_122 import CONTRACTS as _C
from tasks.contracts.humaneval_123_163 import CONTRACTS as _D
from tasks.contracts.humaneval_v2 import CONTRACTS_V2

#: Version 1 of the HumanEval contracts (what suite v1 was built and is verified with).
CONTRACTS: dict[str, Contract] = {**_A, **_B, **_C, **_D}

#: The HumanEval contract sets by name.
CONTRACT_SETS: dict[str, dict[str, Contract]] = {
    "humaneval-v1": CONTRACTS,
    "humaneval-v2": CONTRACTS_V2,
}


def humaneval_contracts(version: str = "humaneval-v1") -> dict[str, Contract]:
    """The HumanEval contracts (task id -> :class:`~tasks.contracts.Contract`) of one named version.

    Raises:
        ValueError: ``version`` is not a known contract set (the message lists the known names).
    """
    try:
        return CONTRACT_SETS[version]
    except KeyError:
        known = ", ".join(sorted(CONTRACT_SETS))
        raise ValueError(f"unknown HumanEval contract set {version!r}; known: {known}") from None
