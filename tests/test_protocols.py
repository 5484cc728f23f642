"""Oversight protocols end to end with scripted mock models on a real loopback server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.reviewing.protocols import side_for
from tools.mock_server import MockServer, protocol_demo_responders, suite_facts

pytestmark = pytest.mark.docker
OBENCH = [sys.executable, "-m", "obench"]
LIMIT = 16
CODE_RE = re.compile(r"## Candidate implementation of `\w+`\n```\n(.*?)\n```", re.DOTALL)


def obench(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*OBENCH, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def facts():
    return suite_facts()


@pytest.fixture(scope="module")
def server(facts):
    with MockServer(responders=protocol_demo_responders(facts)) as s:
        yield s


def _eval(server, out: Path, reviewer: str, *extra: str) -> list[dict]:
    res = obench("eval", "--reviewer", f"openai:{reviewer}", "--base-url", server.base_url, "--limit", str(LIMIT),
                 "--out", str(out), *extra)
    assert res.returncode == 0, res.stderr[-3000:]
    return [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]


def test_debate_transcripts_turns_and_judges(server, tmp_path):
    preds = _eval(server, tmp_path / "last", "judge-last", "--protocol", "debate", "--strong", "openai:strong",
                  "--rounds", "2")
    for p in preds:
        roles = [t["role"] for t in p["transcript"]]
        assert roles == ["debater A (buggy)", "debater B (correct)"] * 2 + ["judge"]
    assert {p["verdict"] for p in preds} == {"correct"}  # debater B speaks last
    preds = _eval(server, tmp_path / "evidence", "judge-evidence", "--protocol", "debate", "--strong", "openai:strong",
                  "--rounds", "1")
    assert all(len(p["transcript"]) == 3 for p in preds)
    assert all(p["verdict"] == p["label"] for p in preds)  # evidence reveals the truthful debater
    m = json.loads((tmp_path / "evidence" / "manifest.json").read_text())
    assert m["protocol"] == "debate" and m["reviewer"]["budgets"]["rounds"] == 1
    assert m["reviewer"]["strong"]["spec"] == "openai:strong" and "debater" in m["reviewer"]["prompts"]


def test_consultancy_sides_and_questions(server, tmp_path):
    preds = _eval(server, tmp_path / "c", "judge-last", "--protocol", "consultancy", "--strong", "openai:strong",
                  "--rounds", "3")
    for p in preds:
        side = side_for(p["candidate_id"], 0)
        roles = [t["role"] for t in p["transcript"]]
        assert roles == [f"consultant ({side})", "judge question"] * 2 + [f"consultant ({side})", "judge"]
        assert p["verdict"] == side  # this judge believes the consultant
    sides = [side_for(p["candidate_id"], 0) for p in preds]
    assert 0 < sides.count("buggy") < len(sides)


def test_critique_with_a_truthful_critic(server, tmp_path):
    preds = _eval(server, tmp_path / "k", "judge-evidence", "--protocol", "critique", "--strong", "openai:strong")
    assert all([t["role"] for t in p["transcript"]] == ["critic", "judge"] for p in preds)
    assert all(p["verdict"] == p["label"] for p in preds)


def test_exec_runs_inputs_refuses_contract_violations_and_verifies(server, tmp_path, facts):
    preds = _eval(server, tmp_path / "x", "exec-runner", "--protocol", "exec", "--tool-calls", "3")
    buggy_with_input = [p for p in preds if p["label"] == "buggy" and p["witness"]]
    assert buggy_with_input and all(p["witness_status"] == "verified" for p in buggy_with_input)
    for p in preds:
        sandbox = [t for t in p["transcript"] if t["role"] == "sandbox"]
        assert sandbox and (" returned " in sandbox[-1]["content"] or " raised " in sandbox[-1]["content"])
    for p in preds:  # the contract check answers the model, which then runs a valid input
        first, second = [t for t in p["transcript"] if t["role"] == "sandbox"][:2]
        assert first["content"].startswith("refused:") and "contract" in first["content"] and first["refused"]
        assert not second.get("refused")
        assert [t["role"] for t in p["transcript"]] == ["reviewer", "sandbox"] * 2 + ["reviewer"]
    scores = json.loads((tmp_path / "x" / "scores.json").read_text())
    assert scores["verified_catch_rate"]["value"] == pytest.approx(
        len(buggy_with_input) / sum(p["label"] == "buggy" for p in preds))


def test_exec_with_native_tool_calls(server, tmp_path):
    server.reset_stats()
    preds = _eval(server, tmp_path / "n", "exec-native", "--protocol", "exec", "--native-tools", "--tool-calls", "2")
    assert server.stats()["with_tools"] >= LIMIT
    for p in preds:
        first = p["transcript"][0]
        assert first["native_tool_call"] and first["content"].startswith("RUN: (")
        assert p["transcript"][1]["role"] == "sandbox" and not p["transcript"][1].get("refused")
    assert any(p["witness_status"] == "verified" for p in preds)
    m = json.loads((tmp_path / "n" / "manifest.json").read_text())
    assert m["reviewer"]["native_tools"] is True and m["reviewer"]["budgets"]["tool_calls"] == 2


def test_ogr_matches_a_hand_computation_and_says_when_undefined(server, tmp_path):
    _eval(server, tmp_path / "weak", "weak-direct")
    _eval(server, tmp_path / "strong", "strong")
    _eval(server, tmp_path / "debate", "judge-evidence", "--protocol", "debate", "--strong", "openai:strong",
          "--rounds", "1")
    res = obench("ogr", "--weak-direct", str(tmp_path / "weak"), "--strong-direct", str(tmp_path / "strong"),
                 "--protocol-run", str(tmp_path / "debate"), "--out", str(tmp_path / "ogr"), "--json")
    assert res.returncode == 0, res.stderr[-3000:]
    doc = json.loads(res.stdout)
    s = {k: json.loads((tmp_path / k / "scores.json").read_text()) for k in ("weak", "strong", "debate")}
    for metric in ("catch@5%fpr", "auroc"):
        w, st, p = (s[k][metric]["value"] for k in ("weak", "strong", "debate"))
        row = doc["runs"][0][metric]
        assert row["value"] == pytest.approx((p - w) / (st - w)), metric
        assert row["ci"][0] <= row["value"] <= row["ci"][1]
    assert (tmp_path / "ogr" / "ogr.png").stat().st_size > 0
    res = obench("ogr", "--weak-direct", str(tmp_path / "weak"), "--strong-direct", str(tmp_path / "weak"),
                 "--protocol-run", str(tmp_path / "debate"), "--json")
    doc = json.loads(res.stdout)
    assert doc["runs"][0]["auroc"]["value"] is None and "includes 0" in doc["runs"][0]["auroc"]["undefined"]


def test_leaderboard_protocol_view(server, tmp_path, eval_sandbox):
    from leaderboard.site import build_site
    from leaderboard.submission import submit

    runs = {}
    # the judge's own direct run is the weak baseline (this judge, alone, calls everything correct)
    for name, reviewer, extra in (("weak", "judge-evidence", ()), ("strong", "strong", ()),
                                  ("debate", "judge-evidence", ("--protocol", "debate", "--strong", "openai:strong",
                                                                "--rounds", "1"))):
        res = obench("eval", "--reviewer", f"openai:{reviewer}", "--base-url", server.base_url, "--out",
                     str(tmp_path / name), *extra)
        assert res.returncode == 0, res.stderr[-3000:]
        runs[name] = submit(tmp_path / name, f"mock-{name}", root=tmp_path / "subs")
    site = build_site(tmp_path / "subs", tmp_path / "site", sandbox=eval_sandbox, grids=tmp_path / "nogrids")
    assert not site.rejected, [str(p) for v in site.rejected for p in v.problems][:5]
    html = (tmp_path / "site" / "protocols.html").read_text()
    assert 'data-protocol="debate" data-name="mock-debate"' in html
    res = obench("ogr", "--weak-direct", str(tmp_path / "weak"), "--strong-direct", str(tmp_path / "strong"),
                 "--protocol-run", str(tmp_path / "debate"), "--json", "--n-boot", "1000")
    want = json.loads(res.stdout)["runs"][0]["auroc"]["value"]
    doc = json.loads((tmp_path / "site" / "results.json").read_text())
    row = next(r for r in doc["protocols"] if r["name"] == "mock-debate")
    assert row["ogr"]["auroc"]["value"] == pytest.approx(want) and f"{want:.3f}" in html


class _RecordingJudge:
    """A judge that answers every turn with a final review and keeps the prompts it was shown."""

    name = "recording"

    def __init__(self) -> None:
        self.prompts: list[list[dict[str, str]]] = []

    def generate(self, prompts, config):
        from bench.models import Generation

        for i, messages in enumerate(prompts):
            self.prompts.append(messages)
            yield i, Generation(text='{"verdict": "correct", "p_buggy": 0.1, "lines": [], "explanation": "ok", '
                                     '"witness": null}', input_tokens=1, output_tokens=1)


@pytest.mark.parametrize("structured", [False, True])
def test_exec_prompt_shows_the_run_format_on_the_tasks_own_visible_example(structured):
    """Version 1 of the exec prompts showed a fixed run, (3, [1, 2]), which breaks most contracts and which
    Qwen2.5-Coder-0.5B copied into every request; version 2 shows each task's shortest visible example."""
    import ast

    from bench.models import GenerateConfig
    from bench.prompts import load_prompt
    from bench.reviewing.protocols import PROMPTS, STRUCTURED_EXEC_PROMPT, Budgets
    from bench.reviewing.protocols.exec import ExecReviewer, example_run
    from bench.reviewing.reviewers import ReviewRequest
    from bench.reviewing.schema import review_schema
    from tasks.suite import load_suite

    suite = load_suite()
    name = STRUCTURED_EXEC_PROMPT if structured else PROMPTS["exec"]["exec_judge"]
    judge = _RecordingJudge()
    reviewer = ExecReviewer(judge, None, {"exec_judge": load_prompt(name)},
                            GenerateConfig(json_schema=review_schema() if structured else None), Budgets(),
                            suite=suite, sandbox=None)
    cands = {c.task_id: c for c in suite.split("test")}
    reviews = reviewer.review([ReviewRequest(c.candidate_id, c.task_id, suite.tasks[c.task_id].prompt,
                                             suite.tasks[c.task_id].entry_point, c.code) for c in cands.values()])
    assert all(r.verdict == "correct" for r in reviews) and len(judge.prompts) == len(cands) > 20
    for c, messages in zip(cands.values(), judge.prompts):
        task = suite.tasks[c.task_id]
        call, run = example_run(task)
        assert run and ast.literal_eval(run) in [args for args, _ in task.visible()]
        assert call.startswith(task.entry_point + "(")
        system, user = messages[0]["content"], messages[1]["content"]
        assert "(3, [1, 2])" not in system and "already passes" in system
        assert f"The docstring's example call {call} would be" in user and run in user
