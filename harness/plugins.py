"""Backends registered through entry points: one loader for every registry of the project.

A backend module registers itself where it is defined (``@register_sandbox("docker")``,
``@register_model("hf", ...)``); the distribution lists those modules as entry points
(``[project.entry-points."oversightbench.sandboxes"]`` in ``pyproject.toml``), and a
registry calls :func:`load_entry_points` before it answers. Third-party packages add
backends the same way, without touching this project.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

SANDBOX_GROUP = "oversightbench.sandboxes"
MODEL_GROUP = "oversightbench.models"


@cache
def load_entry_points(group: str) -> tuple[str, ...]:
    """Import every module registered in ``group`` (once); returns their entry-point names.

    A plugin that fails to import is skipped (its name is left out), so one broken
    extension cannot take the built-in backends down with it.
    """
    loaded = []
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        try:
            ep.load()
        except Exception:  # noqa: BLE001 - a broken plugin must not break the registry
            continue
        loaded.append(ep.name)
    return tuple(loaded)


def missing_hint(group: str) -> str:
    """What to tell a user when a registry is empty: the distribution is not installed."""
    return f" (no '{group}' entry points found: install the project with `pip install -e .`)"
