"""What a weak-to-strong experiment writes to disk (pydantic models with ``schema_version``).

Output directory::

    manifest.json       W2SManifest: suite, weak supervisor (+ labels hash), student identity, mode,
                        methods, seeds, hyperparameters, data, bootstrap, packages, host, times
    results.json        W2SResults: floor, per method per seed and over seeds: P_w2s, P_ceiling, gap, PGR
    predictions.jsonl   W2SPrediction rows on the test split: weak, ceiling / w2s / intermediate per seed
    weak_labels.jsonl   W2SPrediction rows on the train split: the weak labels the students trained on
    report.md           the human-readable report
    w2s.png             weak / w2s / ceiling per method (AUROC and catch@5%fpr)
    cache/              embeddings by student and text hash (reused by later runs into this directory)
    weak/               reviewer runs on train / test, when the weak supervisor is a reviewer spec
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


def _no_ci() -> list[float | None]:
    return [None, None]


class Est(BaseModel):
    """A metric value and its 95% interval (None where undefined)."""

    model_config = ConfigDict(extra="forbid")
    value: float | None
    ci: list[float | None] = Field(default_factory=_no_ci)


class PGREst(Est):
    """A PGR value, its 95% interval, and why it is undefined (when it is)."""

    undefined: str | None = None


class SeedResult(BaseModel):
    """One seed of one method, per metric (CIs resample test tasks)."""

    model_config = ConfigDict(extra="forbid")
    seed: int
    w2s: dict[str, Est]
    ceiling: dict[str, Est]
    gap: dict[str, Est] = Field(description="P_ceiling - P_weak")
    pgr: dict[str, PGREst]
    intermediate: dict[str, Est] | None = Field(None, description="bootstrap: the intermediate student on test")


class MeanResult(BaseModel):
    """One method over seeds, for one metric (CIs resample test tasks and seeds)."""

    model_config = ConfigDict(extra="forbid")
    weak: Est
    w2s: Est
    ceiling: Est
    gap: Est
    pgr: PGREst
    pgr_seed_sd: float | None = Field(description="standard deviation of the defined per-seed PGRs")


class MethodResult(BaseModel):
    """Every seed of one method, and the aggregate per metric."""

    model_config = ConfigDict(extra="forbid")
    method: str
    seeds: list[SeedResult]
    mean: dict[str, MeanResult]


class W2SResults(BaseModel):
    """``results.json``."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION
    metrics: list[str]
    weak_spec: str
    student: str
    student_input: str = Field(description="prompt+code | code")
    mode: str = Field(description="probe | finetune")
    seeds: list[int]
    n_train: int
    n_test: int
    n_test_tasks: int
    weak: dict[str, Est] = Field(description="the floor P_weak on test, CI by task")
    methods: list[MethodResult]
    ci: dict[str, Any]

    def method(self, name: str) -> MethodResult:
        for m in self.methods:
            if m.method == name:
                return m
        raise KeyError(name)


class W2SPrediction(BaseModel):
    """One p_buggy of one predictor on one candidate."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION
    split: str
    role: str = Field(description="weak | ceiling | w2s | intermediate")
    method: str | None = None
    seed: int | None = None
    candidate_id: str
    task_id: str
    label: str
    p_buggy: float


class W2SManifest(BaseModel):
    """``manifest.json``: everything needed to reproduce and cite the experiment."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION
    kind: str = "w2s"
    status: str = Field(description="running | complete")
    command: list[str]
    suite: dict[str, Any]
    weak: dict[str, Any]
    student: dict[str, Any]
    mode: str
    methods: list[str]
    seeds: list[int]
    hyperparameters: dict[str, Any]
    data: dict[str, Any]
    bootstrap: dict[str, Any]
    packages: dict[str, str]
    host: dict[str, Any]
    started_at: str
    ended_at: str | None = None
    timings: dict[str, float] = Field(default_factory=dict)
