"""Prompt templates: versioned jinja2 files, hashed into every run manifest.

A template file ``<name>.v<N>.j2`` defines two macros, ``system()`` and ``user(...)``:
review prompts take ``(task_prompt, entry_point, numbered_code)``, generation prompts
``(task_prompt, entry_point)`` (honest) or ``(task_prompt, entry_point, solution)`` (sneaky). Change a prompt by adding a new
version, never by editing a released one: the hash in a run manifest must keep
meaning the same words.

May import: jinja2 only. Imported by ``bench.reviewing`` and ``bench.generation``.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

PROMPT_DIR = Path(__file__).resolve().parent
DEFAULT_REVIEW_PROMPT = "review_direct.v1"


class UnknownPrompt(ValueError):
    """No template of that name."""


def prompt_names() -> list[str]:
    return sorted(p.name[: -len(".j2")] for p in PROMPT_DIR.glob("*.j2"))


def number_lines(code: str) -> str:
    """The code as the reviewer sees it: ``  1 | line`` (lines are 1-based)."""
    lines = code.splitlines() or [""]
    width = len(str(len(lines)))
    return "\n".join(f"{n:>{width}} | {line}".rstrip() for n, line in enumerate(lines, 1))


@dataclass(frozen=True)
class PromptTemplate:
    """A loaded template: its name, file hash and compiled macros."""

    name: str
    sha256: str
    source: str

    def messages(self, task_prompt: str, entry_point: str, code: str) -> list[dict[str, str]]:
        """Chat messages for one review (system + user); the candidate is shown with line numbers."""
        return self.render(task_prompt, entry_point, number_lines(code))

    @property
    def user_arguments(self) -> tuple[str, ...]:
        """The names of the ``user`` macro's arguments (a protocol passes the ones its prompt version takes)."""
        return tuple(_compiled(self.source).user.arguments)

    def render(self, *args: Any) -> list[dict[str, str]]:
        """Chat messages: ``system()`` and ``user(*args)``."""
        module = _compiled(self.source)
        system = str(module.system()).strip()
        user = str(module.user(*args)).strip()
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]


@functools.lru_cache(maxsize=16)
def _compiled(source: str) -> Any:
    return _env().from_string(source).module


def _env() -> jinja2.Environment:
    return jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


def load_prompt(name: str = DEFAULT_REVIEW_PROMPT) -> PromptTemplate:
    """Load a template by name (``review_direct.v1``) or by path to a ``.j2`` file.

    Raises:
        UnknownPrompt: listing the bundled names.
    """
    path = Path(name)
    if not (path.suffix == ".j2" and path.exists()):
        path = PROMPT_DIR / f"{name}.j2"
    if not path.exists():
        raise UnknownPrompt(f"unknown prompt {name!r}; bundled prompts: {', '.join(prompt_names())} (or a path to a .j2 file)")
    source = path.read_text(encoding="utf-8")
    try:
        module = _env().from_string(source).module
    except jinja2.TemplateError as exc:
        raise UnknownPrompt(f"prompt {path} does not compile: {exc}") from exc
    if not (hasattr(module, "system") and hasattr(module, "user")):
        raise UnknownPrompt(f"prompt {path} must define the macros system() and user(task_prompt, entry_point, numbered_code)")
    return PromptTemplate(name=path.name[: -len(".j2")], sha256=hashlib.sha256(source.encode()).hexdigest(), source=source)
