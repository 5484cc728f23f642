"""Generation: models that write candidates, and the reviewer x generator grid.

Lives here: :mod:`~bench.generation.generators` (the ``Generator`` protocol, model
generators, the ``mutant`` / ``reference`` baselines), :mod:`~bench.generation.extract`
(total code extraction from replies), :mod:`~bench.generation.generate` (a generation run,
labelled by execution) and :mod:`~bench.generation.grid` (evasion and sneaky success per
reviewer; the caller says where to publish).

May import: ``bench.runs``, ``bench.reviewing``, ``bench.metrics``, ``bench.models``,
``tasks`` and ``harness``. Imported by ``leaderboard`` (the generator view) and the CLI.
"""

from bench.generation.extract import Extraction, extract_code
from bench.generation.generate import STATUSES, GenerateError, GenerateRunConfig, load_generations, run_generation
from bench.generation.grid import publish, recompute, run_grid

__all__ = ["STATUSES", "Extraction", "GenerateError", "GenerateRunConfig", "extract_code", "load_generations", "publish",
           "recompute", "run_generation", "run_grid"]
