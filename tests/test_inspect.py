"""OversightBench inside Inspect: the tasks, the importer, and parity with `obench eval`.

Parity: the same deterministic model through `obench eval` and through `inspect eval` + `obench
import-inspect` gives identical predictions (verdict, p_buggy, lines, witness, witness status, raw reply,
tokens, protocol turns) and identical scores.json, with Inspect's `mockllm` (on both paths through Inspect's
model API) and with our loopback OpenAI-compatible mock server (our own client on one side, Inspect's
`openai-api` provider on the other).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.models import ModelOptions
from bench.reviewing.protocols import Budgets
from bench.runs.evaluate import EvalConfig, evaluate, select_items
from tasks.suite import load_suite

BIN = Path(sys.executable).parent
SUITE = load_suite()
TEST_ITEMS = select_items(SUITE, "test")
COMPARED = ("candidate_id", "verdict", "p_buggy", "lines", "witness", "witness_status", "witness_detail", "raw",
            "parse_error", "error", "explanation", "input_tokens", "output_tokens", "transcript")


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(cmd)} exited {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-5000:]}"
    return r


def inspect_eval(tmp: Path, *args: str, env: dict[str, str] | None = None) -> Path:
    """`inspect eval ARGS` in a subprocess with its own log directory; returns the one log it wrote."""
    logs = tmp / "logs"
    run([str(BIN / "inspect"), "eval", *args, "--display", "none"], cwd=tmp,
        env={"INSPECT_LOG_DIR": str(logs), **(env or {})})
    written = sorted(logs.glob("*.eval"))
    assert len(written) == 1, written
    return written[0]


def obench(*args: str) -> str:
    """An `obench` command, in process (the CLI's own code; saves a cold start per command); returns its stdout."""
    from typer.testing import CliRunner

    from obench import app

    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, f"obench {' '.join(args)} exited {r.exit_code}\n{r.output[-5000:]}\n{r.exception!r}"
    return r.stdout


def predictions(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]


def assert_same_run(a: Path, b: Path) -> None:
    pa, pb = predictions(a), predictions(b)
    assert [p["candidate_id"] for p in pa] == [p["candidate_id"] for p in pb]
    for x, y in zip(pa, pb):
        diff = {k: (x[k], y[k]) for k in COMPARED if x[k] != y[k]}
        assert not diff, f"{x['candidate_id']}: {diff}"
    assert pa == pb
    assert json.loads((a / "scores.json").read_text()) == json.loads((b / "scores.json").read_text())


@pytest.fixture(scope="module")
def harness_cleanup():
    """The extension's per-process sandbox, when an in-process eval opened one: closed after these tests."""
    yield
    from oversightbench.execution import shared_harness

    shared_harness().close()


# -- without a network, without the extra -------------------------------------------------------------------------

def test_o200k_ranks_rebuild_tiktokens_file_offline(tmp_path, monkeypatch):
    import tiktoken.load

    from oversightbench.offline import O200K_SHA256, O200K_URL, ensure_o200k_cache

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    path = ensure_o200k_cache()
    assert path is not None and path.parent == tmp_path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == O200K_SHA256
    assert ensure_o200k_cache() == path  # a no-op once there

    def no_network(blobpath: str) -> bytes:
        raise AssertionError(f"tiktoken tried to download {blobpath}")

    monkeypatch.setattr(tiktoken.load, "read_file", no_network)
    ranks = tiktoken.load.load_tiktoken_bpe(O200K_URL, expected_hash=O200K_SHA256)
    assert len(ranks) == 199998 and ranks[b"!"] == 0


def test_obench_works_without_inspect(tmp_path):
    code = """
import sys
sys.modules["inspect_ai"] = None  # as if the extra were not installed
from bench.models import UnknownModel, create_model, is_model_spec
from obench import app
assert is_model_spec("inspect:mockllm/model")
try:
    create_model("inspect:mockllm/model")
except UnknownModel as exc:
    assert "pip install -e '.[inspect]'" in str(exc), exc
else:
    raise AssertionError("created an Inspect model without Inspect")
from obench import main
sys.argv = ["obench", "import-inspect", "nothing.eval"]
main()
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr
    assert "pip install -e '.[inspect]'" in r.stderr and "Traceback" not in r.stderr


# -- the Done-when commands ------------------------------------------------------------------------------------

@pytest.mark.docker
def test_inspect_cli_mockllm_limit_20_imports_like_obench_eval(tmp_path):
    """`inspect eval oversightbench/review --model mockllm/model -T limit=20` offline, then `obench import-inspect`:
    the same predictions and scores as `obench eval --reviewer inspect:mockllm/model --limit 20`."""
    log = inspect_eval(tmp_path, "oversightbench/review", "--model", "mockllm/model", "-T", "limit=20")
    obench("import-inspect", str(log.parent), "--out", str(tmp_path / "imported"))
    obench("report", str(tmp_path / "imported"))
    obench("eval", "--reviewer", "inspect:mockllm/model", "--limit", "20", "--out", str(tmp_path / "direct"))
    assert_same_run(tmp_path / "imported", tmp_path / "direct")
    cmp = json.loads(obench("compare", str(tmp_path / "imported"), str(tmp_path / "direct"), "--json"))
    assert all(m["diff"] in (0.0, None) for m in cmp["metrics"].values())

    a = json.loads((tmp_path / "imported" / "manifest.json").read_text())
    b = json.loads((tmp_path / "direct" / "manifest.json").read_text())
    assert a["reviewer_fingerprint"] == b["reviewer_fingerprint"]  # the same reviewer, whichever path ran it
    for key in ("suite", "split", "limit", "n_items", "items_sha256", "protocol", "prompt", "decoding", "seeds"):
        assert a[key] == b[key], key
    ids = [c.candidate_id for c in select_items(SUITE, "test", 20)]
    assert [p["candidate_id"] for p in predictions(tmp_path / "imported")] == sorted(ids)
    assert all(p["raw"] == "Default output from mockllm/model" and p["verdict"] == "abstain"
               for p in predictions(tmp_path / "imported"))


@pytest.mark.docker
def test_full_test_split_from_inspect_is_accepted_by_the_leaderboard(tmp_path, eval_sandbox):
    from leaderboard.submission import submit
    from leaderboard.validate import validate_submission
    from oversightbench.importer import import_log

    log = inspect_eval(tmp_path, "oversightbench/review", "--model", "mockllm/model")
    out, scores = import_log(log, tmp_path / "run")
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "complete" and m["split"] == "test" and m["limit"] == 0 and m["n_items"] == len(TEST_ITEMS)
    assert m["suite"]["content_hash"] == SUITE.manifest.content_hash
    assert m["reviewer"]["spec"] == "inspect:mockllm/model" and m["command"][:3] == ["inspect", "eval", "oversightbench/review"]
    model = m["reviewer"]["model"]
    assert model["backend"] == "inspect" and model["model"] == "mockllm/model" and model["inspect_ai"]
    assert model["inspect_log"]["generate_config"] == {"max_tokens": 512, "temperature": 0.0, "top_p": 1.0, "seed": 0}
    assert m["decoding"] == {"max_new_tokens": 512, "temperature": 0.0, "top_p": 1.0, "seed": 0}
    assert m["prompt"]["name"] == "review_direct.v1" and m["packages"]["inspect-ai"] == model["inspect_ai"]
    assert m["gold_check"]["passed"] and m["harness"]["backend"] == "docker"
    assert scores["n_items"] == len(TEST_ITEMS) and scores["n_abstain"] == len(TEST_ITEMS)

    dest = submit(out, "inspect-mockllm", org="test", root=tmp_path / "submissions")
    v = validate_submission(dest, sandbox=eval_sandbox)
    assert v.ok, [str(p) for p in v.problems]
    # the reviewer is re-created from the manifest (inspect:mockllm/model) and asked again: identical replies
    assert "identical replies" in obench("leaderboard", "reproduce", str(dest), "--sample", "5")
    assert validate_submission(dest, sandbox=eval_sandbox).ok


# -- parity through our loopback OpenAI-compatible mock server -------------------------------------------------------

@pytest.fixture(scope="module")
def mock_server():
    from tools.mock_server import MockServer, protocol_demo_responders, suite_facts

    with MockServer(responders=protocol_demo_responders(suite_facts(SUITE))) as server:
        yield server


def _obench_run(out: Path, sandbox, reviewer: str, server, protocol: str = "direct", limit: int = 0,
                native_tools: bool = False) -> Path:
    cfg = EvalConfig(reviewer=reviewer, protocol=protocol, split="test", limit=limit, native_tools=native_tools,
                     model_options=ModelOptions(concurrency=8, base_url=server.base_url), budgets=Budgets())
    evaluate(cfg, SUITE, sandbox, out, command=["obench", "eval", "--reviewer", reviewer])
    return out


def _inspect_run(tmp: Path, task: str, model: str, server, *task_args: str) -> Path:
    from oversightbench.importer import import_log

    log = inspect_eval(tmp, task, "--model", f"openai-api/mock/{model}", *(x for a in task_args for x in ("-T", a)),
                       env={"MOCK_BASE_URL": server.base_url, "MOCK_API_KEY": "not-needed"})
    out, _ = import_log(log, tmp / "imported")
    return out


def _inspect_metrics_match_scores(run_dir: Path) -> None:
    """The metrics Inspect logged are the run's scores.json numbers (ours), and its accuracy is our accuracy."""
    from inspect_ai.log import read_eval_log

    man = json.loads((run_dir / "manifest.json").read_text())
    log = read_eval_log(man["reviewer"]["model"]["inspect_log"]["log"], header_only=True)
    logged = {k: m.value for k, m in log.results.scores[0].metrics.items()}
    scores = json.loads((run_dir / "scores.json").read_text())
    for name in ("catch@5%fpr", "auroc", "verified_catch_rate"):
        assert logged[name] == pytest.approx(scores[name]["value"], abs=1e-12)
        assert [logged[f"{name}_ci_lower"], logged[f"{name}_ci_upper"]] == pytest.approx(scores[name]["ci"], abs=1e-12)
    assert logged["accuracy"] == pytest.approx(scores["accuracy"]["value"], abs=1e-12)
    assert "stderr" in logged


@pytest.mark.docker
@pytest.mark.slow
def test_parity_openai_api_full_test_split_with_verified_catches(tmp_path, eval_sandbox, mock_server):
    """`strong` (a scripted mock that gives failing inputs as witnesses) on the full test split, both paths;
    the imported run also passes leaderboard validation, every witness re-executed."""
    from leaderboard.submission import submit
    from leaderboard.validate import validate_submission

    a = _obench_run(tmp_path / "obench", eval_sandbox, "openai:strong", mock_server)
    b = _inspect_run(tmp_path, "oversightbench/review", "strong", mock_server)
    assert_same_run(a, b)
    scores = json.loads((b / "scores.json").read_text())
    assert scores["verified_catch_rate"]["value"] > 0.5 and scores["catch@5%fpr"]["value"] == 1.0
    _inspect_metrics_match_scores(b)
    v = validate_submission(submit(b, "inspect-strong", root=tmp_path / "submissions"), sandbox=eval_sandbox)
    assert v.ok and v.witnesses_rerun > 100, [str(p) for p in v.problems]


@pytest.mark.docker
def test_parity_openai_api_varied_reviews(tmp_path, eval_sandbox, mock_server):
    """The default mock reviewer (fenced JSON, varied p_buggy, doctest inputs as witnesses) on 60 candidates."""
    from tools.mock_server import MODEL_ID

    a = _obench_run(tmp_path / "obench", eval_sandbox, f"openai:{MODEL_ID}", mock_server, limit=60)
    b = _inspect_run(tmp_path, "oversightbench/review", MODEL_ID, mock_server, "limit=60")
    assert_same_run(a, b)
    preds = predictions(b)
    assert {p["verdict"] for p in preds} == {"buggy", "correct"} and any(p["witness"] for p in preds)
    assert all(p["input_tokens"] > 0 and p["output_tokens"] > 0 for p in preds)
    _inspect_metrics_match_scores(b)


@pytest.mark.docker
@pytest.mark.parametrize("model", ["exec-runner", "exec-native"])
def test_parity_exec_protocol(tmp_path, eval_sandbox, mock_server, model):
    """`oversightbench/exec`: the same turns, refusals, sandbox runs and final reviews as `obench eval --protocol exec`
    (a RUN line, or a native `run` tool call with native_tools)."""
    native = model == "exec-native"
    a = _obench_run(tmp_path / "obench", eval_sandbox, f"openai:{model}", mock_server, protocol="exec", limit=12,
                    native_tools=native)
    b = _inspect_run(tmp_path, "oversightbench/exec", model, mock_server, "limit=12",
                     *(["native_tools=true"] if native else []))
    assert_same_run(a, b)
    preds = predictions(b)
    turns = [t for p in preds for t in p["transcript"]]
    assert any(t["role"] == "sandbox" and t.get("refused") for t in turns) or native
    assert any(t["role"] == "sandbox" and not t.get("refused") for t in turns)
    assert any(p["witness_status"] == "verified" for p in preds)
    if native:
        assert any(t.get("native_tool_call") for t in turns)
    ma = json.loads((a / "manifest.json").read_text())
    mb = json.loads((b / "manifest.json").read_text())
    assert mb["protocol"] == "exec" and ma["prompt"] == mb["prompt"]
    assert mb["reviewer"]["budgets"] == ma["reviewer"]["budgets"]
    assert mb["reviewer"]["native_tools"] == ma["reviewer"]["native_tools"] == native


# -- the tool and the importer's edge cases (in process) -------------------------------------------------------------

@pytest.mark.docker
def test_run_tool_goes_through_the_contract_check_and_the_sandbox(harness_cleanup):
    from oversightbench.solvers import run_candidate

    c = next(c for c in TEST_ITEMS if SUITE.tasks[c.task_id].visible())
    task = SUITE.tasks[c.task_id]
    args = repr(tuple(task.visible()[0][0]))
    run = run_candidate(c.candidate_id)
    ok = asyncio.run(run(args=args))
    assert ok.startswith(f"{task.entry_point}(") and (" returned " in ok or " raised " in ok), ok
    assert asyncio.run(run(args="__import__('os').system('id')")).startswith("refused: ")
    assert asyncio.run(run(args="not python")).startswith("refused: ")


@pytest.mark.docker
def test_import_takes_inspects_limit_and_marks_failed_samples(tmp_path, harness_cleanup):
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval_api
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ModelOutput, get_model
    from inspect_ai.solver import generate

    from bench.prompts import number_lines
    from oversightbench.evals import review
    from oversightbench.importer import InspectImportError, import_log

    first = select_items(SUITE, "test", 6)
    bad = number_lines(first[2].code)

    def outputs(messages, tools, tool_choice, config):
        if bad in messages[-1].text:
            raise RuntimeError("the provider failed after its retries")
        return ModelOutput.from_content("mockllm", '{"verdict": "buggy", "p_buggy": 0.8, "lines": [2]}')

    def eval_log(limit: int, where: str) -> Path:
        logs = inspect_eval_api(review(), model=get_model("mockllm/model", custom_outputs=outputs), limit=limit,
                                log_dir=str(tmp_path / where), display="none", fail_on_error=False)
        return Path(logs[0].location)

    out, scores = import_log(eval_log(6, "six"), tmp_path / "six")  # Inspect's --limit: the same prefix as -T limit
    m = json.loads((out / "manifest.json").read_text())
    assert m["limit"] == 6 and m["n_items"] == 6 and m["status"] == "incomplete" and m["counts"]["errors"] == 1
    assert m["command"][-2:] == ["--limit", "6"]
    preds = {p["candidate_id"]: p for p in predictions(out)}
    assert sorted(preds) == sorted(c.candidate_id for c in first)
    failed = preds[first[2].candidate_id]
    assert failed["error"].startswith("inspect: ") and failed["verdict"] == "abstain" and scores["n_errors"] == 1
    assert all(p["verdict"] == "buggy" and p["lines"] == [2] for cid, p in preds.items() if cid != first[2].candidate_id)

    with pytest.raises(InspectImportError, match="holds another run"):
        import_log(eval_log(3, "three"), tmp_path / "six")

    logs = inspect_eval_api(Task(dataset=[Sample(input="hi", target="x")], solver=generate()), model="mockllm/model",
                            log_dir=str(tmp_path / "other"), display="none")
    with pytest.raises(InspectImportError, match="not of an OversightBench task"):
        import_log(Path(logs[0].location), tmp_path / "other-run")
