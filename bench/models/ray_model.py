"""Model calls from Ray actors: the real backend lives in an actor, the driver streams chunks.

``RayModel("openai:gpt-x", options)`` creates ``create_model(spec, options)`` inside each of
its actors (on whichever node Ray places them, e.g. one with a GPU for ``hf:`` specs) and
implements the :class:`~bench.models.Model` protocol on the driver: :meth:`RayModel.generate`
sends chunks of ``4 * options.concurrency`` prompts and yields ``(index, generation)`` for
each chunk as it completes. The wrapped backend keeps its own concurrency limit (an actor
runs one chunk at a time, with the next one queued behind it).

An actor that crashes is restarted and its chunk re-run by Ray; a chunk still lost after
that is tried once on another actor, then yields generations with ``error`` set. Nothing
raises for a lost actor, and every index is yielded exactly once.

Identity: :meth:`RayModel.describe` is the wrapped model's description plus one key,
:data:`EXECUTOR_KEY`, saying how it was reached; drop that key (as ``base_url`` is dropped)
when fingerprinting a run.
"""

from __future__ import annotations

import dataclasses
import os
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

from bench.models import GenerateConfig, Generation, Message, ModelOptions, UnknownModel, create_model

#: Key of :meth:`RayModel.describe` that is transport, not identity.
EXECUTOR_KEY = "executor"
#: Chunks of prompts in flight per actor (one generating, one queued).
DEPTH = 2
#: Driver-side attempts per chunk (each on top of Ray's own task retries).
CHUNK_ATTEMPTS = 2
#: Environment variables forwarded to the actors when set on the driver (besides ``options.api_key_env``).
FORWARDED_ENV = ("OPENAI_BASE_URL", "HF_TOKEN", "HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


class ModelActor:
    """Body of one Ray actor: the real backend for ``spec``, created inside the actor process."""

    def __init__(self, spec: str, options: ModelOptions, env: dict[str, str]) -> None:
        os.environ.update(env)
        self.model: Any = None
        self.error: str | None = None
        try:
            self.model = create_model(spec, options)
        except Exception as exc:  # noqa: BLE001 - reported through hello()
            self.error = f"{type(exc).__name__}: {exc}"

    def hello(self) -> dict[str, Any]:
        """pid, the model's description and tool support, or why it could not be created."""
        if self.model is None:
            return {"pid": os.getpid(), "error": self.error}
        return {"pid": os.getpid(), "error": None, "describe": self.model.describe(),
                "supports_tools": bool(getattr(self.model, "supports_tools", False))}

    def generate(self, indices: list[int], prompts: list[list[Message]], config: GenerateConfig,
                 tools: list[dict[str, Any]] | None) -> list[tuple[int, Generation]]:
        """Generations for one chunk, as ``(global index, generation)`` in completion order."""
        if self.model is None:
            raise UnknownModel(f"model could not be created in this actor: {self.error}")
        stream = (self.model.generate(prompts, config, tools=tools) if tools
                  else self.model.generate(prompts, config))
        return [(indices[i], gen) for i, gen in stream]


class RayModel:
    """A :class:`~bench.models.Model` whose backend runs in Ray actors.

    Args:
        spec: the wrapped model's spec (``openai:<model>``, ``hf:<path>``...).
        options: the wrapped model's options (its ``concurrency`` also sizes chunks).
        address: Ray cluster address; None starts (or joins) a local instance.
        actors: actors to start (each with its own copy of the backend).
        chunk_size: prompts per Ray task; None: ``4 * options.concurrency``.
        num_gpus: GPUs each actor reserves.
        actor_cpus: CPUs each actor reserves; None: 0 for ``openai:`` (I/O bound), else 1.
        max_restarts: restarts of a crashed actor.
        max_task_retries: re-runs of a chunk whose actor crashed.
        runtime_env: Ray runtime environment for the actors.

    Raises:
        UnknownModel: the backend cannot be created (in the actor), or Ray cannot start.
    """

    def __init__(self, spec: str, options: ModelOptions | None = None, address: str | None = None, *,
                 actors: int = 1, chunk_size: int | None = None, num_gpus: float = 0.0,
                 actor_cpus: float | None = None, max_restarts: int = 3, max_task_retries: int = 3,
                 runtime_env: dict[str, Any] | None = None) -> None:
        import ray

        from harness.ray_sandbox import START_TIMEOUT_S, ray_connect, short_error
        from harness.sandbox import SandboxError

        self._spec = spec
        self.options = options or ModelOptions()
        if getattr(self.options, "executor", "local") != "local":  # the actor runs the backend itself
            self.options = dataclasses.replace(self.options, executor="local")  # type: ignore[call-arg]
        self.address = address
        self.chunk_size = max(1, chunk_size or 4 * self.options.concurrency)
        cpus = actor_cpus if actor_cpus is not None else (0.0 if spec.startswith("openai:") else 1.0)
        try:
            self._owns_ray = ray_connect(address, num_cpus=max(1, int(actors * cpus + 0.999)))
        except SandboxError as exc:
            raise UnknownModel(f"{spec}: {exc}") from None
        self._closed = False
        names = (self.options.api_key_env, *FORWARDED_ENV)
        env = {k: os.environ[k] for k in names if k in os.environ}
        opts: dict[str, Any] = {"max_restarts": max_restarts, "max_task_retries": max_task_retries,
                                "num_cpus": cpus, "num_gpus": num_gpus, "scheduling_strategy": "SPREAD"}
        if runtime_env:
            opts["runtime_env"] = runtime_env
        self._actors: list[Any] = [ray.remote(ModelActor).options(**opts).remote(spec, self.options, env)  # type: ignore[attr-defined]
                        for _ in range(max(1, actors))]
        refs = [a.hello.remote() for a in self._actors]
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=START_TIMEOUT_S)
        if len(ready) < len(refs):
            self.close()
            raise UnknownModel(f"{spec}: only {len(ready)} of {len(refs)} Ray model actors started within "
                               f"{START_TIMEOUT_S:.0f}s (each reserves {cpus:g} CPUs and {num_gpus:g} GPUs; the "
                               f"cluster has {ray.cluster_resources()}); lower the reservation or add nodes")
        try:
            hellos = ray.get(refs)
        except Exception as exc:  # noqa: BLE001 - the actor process itself did not start
            self.close()
            raise UnknownModel(f"{spec}: the Ray model actor failed to start: {short_error(exc)}") from None
        errors = [h["error"] for h in hellos if h["error"]]
        if errors:
            self.close()
            raise UnknownModel(f"{spec}: {errors[0]}")
        self._describe: dict[str, Any] = hellos[0]["describe"]
        self.supports_tools: bool = hellos[0]["supports_tools"]
        self._pids = [h["pid"] for h in hellos]

    def __repr__(self) -> str:
        return f"RayModel({self._spec!r}, actors={len(self._actors)}, address={self.address!r})"

    @property
    def spec(self) -> str:
        """The wrapped model's spec (the executor is not part of it)."""
        return self._spec

    def describe(self) -> dict[str, Any]:
        """The wrapped model's description plus ``executor`` (transport: drop it for identity)."""
        return {**self._describe, EXECUTOR_KEY: {"kind": "ray", "address": self.address, "actors": len(self._actors)}}

    def pids(self) -> list[int]:
        """Process ids of the actors when they started (for fault-injection tests)."""
        return list(self._pids)

    def generate(self, prompts: Sequence[Sequence[Message]], config: GenerateConfig,
                 tools: list[dict[str, Any]] | None = None) -> Iterator[tuple[int, Generation]]:
        """Yield ``(index, generation)`` for every prompt exactly once, a chunk at a time as chunks complete.

        Closing the iterator early cancels the chunks not yet finished.
        """
        import ray
        from ray.exceptions import RayActorError

        from harness.ray_sandbox import short_error

        if self._closed:
            raise RuntimeError("this RayModel is closed")
        todo_prompts = [list(p) for p in prompts]
        n = len(todo_prompts)
        if not n:
            return
        size = self.chunk_size
        chunks = [list(range(a, min(n, a + size))) for a in range(0, n, size)]
        todo = deque(range(len(chunks)))
        tries = [0] * len(chunks)
        alive = [True] * len(self._actors)
        load = [0] * len(self._actors)
        inflight: dict[Any, tuple[int, int]] = {}
        tools_arg = tools if tools and self.supports_tools else None

        def lost(c: int, why: str) -> list[tuple[int, Generation]]:
            return [(i, Generation(text="", attempts=0, error=why)) for i in chunks[c]]

        try:
            while todo or inflight:
                while todo:
                    free = [k for k in range(len(self._actors)) if alive[k] and load[k] < DEPTH]
                    if not free:
                        break
                    k = min(free, key=lambda s: load[s])
                    c = todo.popleft()
                    ref = self._actors[k].generate.remote(chunks[c], [todo_prompts[i] for i in chunks[c]],
                                                          config, tools_arg)
                    inflight[ref] = (c, k)
                    load[k] += 1
                    tries[c] += 1
                if not inflight:
                    while todo:
                        yield from lost(todo.popleft(), "every Ray model actor died")
                    break
                done, _ = ray.wait(list(inflight), num_returns=1)
                for ref in done:
                    c, k = inflight.pop(ref)
                    load[k] -= 1
                    try:
                        got = ray.get(ref)
                    except RayActorError as exc:
                        alive[k] = False
                        if tries[c] < CHUNK_ATTEMPTS and any(alive):
                            todo.append(c)
                        else:
                            yield from lost(c, f"Ray model actor lost: {short_error(exc)}")
                        continue
                    except Exception as exc:  # noqa: BLE001 - never raise for one chunk
                        yield from lost(c, f"Ray model task failed: {short_error(exc)}")
                        continue
                    wanted = set(chunks[c])
                    for i, gen in got:
                        if i in wanted:
                            wanted.discard(i)
                            yield i, gen
                    for i in sorted(wanted):
                        yield i, Generation(text="", attempts=0, error="Ray model actor returned no generation")
        finally:
            for ref in inflight:
                try:
                    ray.cancel(ref)
                except Exception:  # noqa: BLE001 - already finished
                    pass

    def close(self) -> None:
        """Kill the actors and shut Ray down if this model started it."""
        if self._closed:
            return
        self._closed = True
        import ray

        from harness.ray_sandbox import ray_release

        for a in getattr(self, "_actors", []):
            try:
                ray.kill(a, no_restart=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
        if self._owns_ray:
            self._owns_ray = False
            ray_release()

    def __enter__(self) -> RayModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wrap_model_for_ray(model_spec: str, options: ModelOptions | None = None, address: str | None = None,
                       **kwargs: Any) -> RayModel:
    """The model ``model_spec`` served from Ray actors (see :class:`RayModel`; ``kwargs`` go to it)."""
    return RayModel(model_spec, options, address, **kwargs)
