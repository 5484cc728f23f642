"""The OpenAI-compatible backend against a real HTTP server on loopback (no client mocking)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from bench.models import GenerateConfig, Generation, ModelOptions, UnknownModel, create_model
from bench.models.openai_api import OpenAIModel
from bench.reviewing.parse import parse_review
from tools.mock_server import MockServer, review_responder

CONFIG = GenerateConfig(max_new_tokens=64)


@pytest.fixture(autouse=True)
def _no_ambient_openai_env(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)


def prompts(n: int, tag: str = "") -> list[list[dict[str, str]]]:
    return [
        [
            {"role": "system", "content": "You review Python code. Reply with a JSON review."},
            {"role": "user", "content": f"def add(a, b):\n    return a + b + {i}  # {tag}\n\n>>> add({i}, 3)\n{i + 3}\n"},
        ]
        for i in range(n)
    ]


def model(server: MockServer, **options) -> OpenAIModel:
    opts = {"concurrency": 4, "max_retries": 2, "timeout_s": 10.0, **options}
    return OpenAIModel("openai:mock-reviewer", ModelOptions(base_url=server.base_url, **opts), backoff_base_s=0.01)


def run(m: OpenAIModel, ps) -> dict[int, Generation]:
    out = list(m.generate(ps, CONFIG))
    indices = [i for i, _ in out]
    assert sorted(indices) == list(range(len(ps))), "every index exactly once"
    return dict(out)


def backend_threads() -> list[threading.Thread]:
    """The backend's loop thread and any helper threads its loop started (executor, AnyIO workers)."""
    return [t for t in threading.enumerate()
            if t.name == "openai-generate" or t.name.startswith(("asyncio_", "AnyIO worker"))]


def wait_for_no_backend_threads(timeout: float = 3.0) -> list[threading.Thread]:
    deadline = time.monotonic() + timeout
    while (left := backend_threads()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


def test_well_formed_replies_parse_into_reviews_with_witnesses():
    ps = prompts(24)
    with MockServer() as srv:
        gens = run(model(srv, concurrency=6), ps)
        stats = srv.stats()
    assert stats["requests"] == 24 and stats["by_status"] == {200: 24}
    witnesses = 0
    for i, g in gens.items():
        assert g.error is None and g.attempts == 1 and g.latency_s > 0
        assert g.input_tokens > 0 and g.output_tokens > 0
        review = parse_review(g.text)
        assert review.verdict in ("buggy", "correct"), review.parse_error
        expected = parse_review(review_responder(ps[i]))
        assert (review.verdict, review.p_buggy, review.witness) == (expected.verdict, expected.p_buggy, expected.witness)
        if review.witness is not None:
            assert review.witness == f"({i}, 3)"
            witnesses += 1
    assert 0 < witnesses < 24


def test_responder_witness_forms():
    one = review_responder([{"role": "user", "content": "text\n>>> f('a')\n"}])
    assert parse_review(one).witness in (None, "('a',)")
    found = {parse_review(review_responder([{"role": "user", "content": f"# {k}\n>>> f([1, 2])"}])).witness
             for k in range(20)}
    assert found == {None, "([1, 2],)"}


def test_malformed_replies_come_back_as_text_and_parse_to_abstain():
    ps = prompts(16, "malformed")
    with MockServer(malformed_rate=1.0) as srv:
        gens = run(model(srv), ps)
    texts = [g.text for g in gens.values()]
    assert all(g.error is None and g.attempts == 1 for g in gens.values())
    assert all(parse_review(t).verdict == "abstain" for t in texts)
    assert "" in texts and any(texts), "varied: empty/null content and unusable prose or truncated JSON"


def test_rate_limits_and_server_errors_are_retried_once():
    ps = prompts(16, "flaky")
    with MockServer(rate_limit_rate=0.5, error_rate=0.5) as srv:
        faults = [srv.fault_for(p) for p in ps]
        gens = run(model(srv), ps)
        stats = srv.stats()
    assert {"rate_limit", "error"} == set(faults)
    for g in gens.values():
        assert g.error is None and g.attempts == 2
        assert parse_review(g.text).verdict != "abstain"
    by_status = stats["by_status"]
    assert by_status[200] == 16
    assert by_status.get(429, 0) == faults.count("rate_limit")
    assert by_status.get(500, 0) + by_status.get(503, 0) == faults.count("error")
    assert stats["requests"] == 32


def test_slow_first_attempt_times_out_and_is_retried():
    ps = prompts(4, "slow")
    start = time.perf_counter()
    with MockServer(slow_rate=1.0, slow_s=300.0) as srv:  # its handlers are daemon threads: never waited for
        gens = run(model(srv, timeout_s=0.5), ps)
    # The slow answer takes 300 s: finishing before half of it means the first attempt timed out and was retried
    # (a margin of minutes that no machine load closes; not a speed test).
    assert time.perf_counter() - start < 150
    for g in gens.values():
        assert g.error is None and g.attempts == 2 and 0.5 <= g.latency_s < 150
        assert parse_review(g.text).verdict != "abstain"


def test_fail_always_yields_an_error_after_every_retry():
    ps = prompts(3, "doomed")
    with MockServer(fail_always_rate=1.0) as srv:
        gens = run(model(srv, max_retries=2), ps)
        stats = srv.stats()
    for g in gens.values():
        assert g.text == "" and g.attempts == 3
        assert g.error is not None and "500" in g.error and "\n" not in g.error
    assert stats["by_status"] == {500: 9}


def test_other_4xx_fail_at_once():
    with MockServer() as srv:
        m = OpenAIModel("openai:mock", ModelOptions(base_url=srv.base_url + "/nope", max_retries=3), backoff_base_s=0.01)
        gens = run(m, prompts(2))
        stats = srv.stats()
    for g in gens.values():
        assert g.text == "" and g.attempts == 1 and g.error is not None and "404" in g.error
    assert stats["by_status"] == {404: 2}


def test_connection_errors_are_retried_then_reported():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    m = OpenAIModel("openai:mock", ModelOptions(base_url=f"http://127.0.0.1:{port}/v1", max_retries=2),
                    backoff_base_s=0.01)
    gens = run(m, prompts(2))
    for g in gens.values():
        assert g.text == "" and g.attempts == 3 and g.error is not None and "APIConnectionError" in g.error


def test_mixed_faults_every_index_exactly_once():
    ps = prompts(60, "mixed")
    with MockServer(malformed_rate=0.2, rate_limit_rate=0.2, error_rate=0.2, fail_always_rate=0.1) as srv:
        faults = [srv.fault_for(p) for p in ps]
        gens = run(model(srv, concurrency=8, max_retries=1), ps)
    for i, fault in enumerate(faults):
        g = gens[i]
        assert (g.error is not None) == (fault == "fail_always")
        verdict = parse_review(g.text).verdict
        assert (verdict == "abstain") == (fault in ("malformed", "fail_always"))


def test_concurrency_is_bounded_and_reached():
    ps = prompts(20, "bounded")
    with MockServer(latency_s=0.2) as srv:
        m = model(srv, concurrency=4)
        start = time.perf_counter()
        run(m, ps)
        wall = time.perf_counter() - start
        stats = srv.stats()
    assert stats["max_in_flight"] == 4
    assert 20 / 4 * 0.2 <= wall, wall  # 20 requests, 4 at a time, 0.2 s each: never faster (bounded)


def test_early_close_cancels_and_stops_the_thread():
    before = len(backend_threads())
    with MockServer(latency_s=0.3) as srv:
        m = model(srv, concurrency=4)
        it = m.generate(prompts(40, "early"), CONFIG)
        first = next(it)
        assert first[1].error is None
        assert any(t.name == "openai-generate" for t in threading.enumerate())
        it.close()
        assert not any(t.name == "openai-generate" for t in threading.enumerate())
        time.sleep(0.4)
        assert srv.stats()["requests"] <= 12, "outstanding requests were cancelled, not sent"

        def consume_and_fail() -> None:
            for _ in m.generate(prompts(40, "raise"), CONFIG):
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            consume_and_fail()
        assert not any(t.name == "openai-generate" for t in threading.enumerate())
        # the model still works afterwards
        assert len(run(m, prompts(4, "again"))) == 4
    assert len(wait_for_no_backend_threads()) <= before


def test_missing_api_key_without_base_url_names_the_variable(monkeypatch):
    with pytest.raises(UnknownModel, match="OPENAI_API_KEY"):
        OpenAIModel("openai:gpt-4o-mini")
    with pytest.raises(UnknownModel, match="MY_KEY"):
        create_model("openai:gpt-4o-mini", ModelOptions(api_key_env="MY_KEY"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    m = create_model("openai:gpt-4o-mini")
    assert "sk-secret-value" not in json.dumps(m.describe()) + repr(m)
    assert m.describe()["base_url"] == "https://api.openai.com/v1"
    # a local server needs no key
    monkeypatch.delenv("OPENAI_API_KEY")
    local = create_model("openai:local", ModelOptions(base_url="http://127.0.0.1:1/v1"))
    assert local.describe()["model"] == "local" and local.spec == "openai:local"


def test_unknown_model_prefix_lists_the_forms():
    with pytest.raises(UnknownModel) as exc:
        create_model("nosuch:thing")
    assert "openai:<model>" in str(exc.value)
    with pytest.raises(UnknownModel):
        create_model("openai:")


def test_backoff_honours_retry_after_and_caps():
    m = OpenAIModel("openai:x", ModelOptions(base_url="http://127.0.0.1:1/v1"), backoff_base_s=0.5,
                    backoff_cap_s=20.0, retry_after_cap_s=60.0)
    assert m._backoff(0, 0.0) == 0.0
    assert m._backoff(5, 7.0) == 7.0
    assert m._backoff(0, 3600.0) == 60.0
    assert 0.25 <= m._backoff(0, None) <= 0.5
    assert 2.0 <= m._backoff(3, None) <= 4.0
    assert 10.0 <= m._backoff(30, None) <= 20.0


def test_server_rejects_invalid_json_and_lists_models():
    with MockServer() as srv:
        req = urllib.request.Request(srv.base_url + "/chat/completions", data=b"{not json", method="POST",
                                     headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(req, timeout=5)
        assert exc.value.code == 400 and "error" in json.loads(exc.value.read())
        with urllib.request.urlopen(srv.base_url + "/models", timeout=5) as resp:
            assert json.loads(resp.read())["data"][0]["object"] == "model"
        assert srv.stats()["by_status"] == {400: 1, 200: 1}


def test_cli_serves_until_interrupted():
    proc = subprocess.Popen([sys.executable, "-m", "tools.mock_server", "--port", "0", "--latency", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        url = line.split()[line.split().index("at") + 1]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        m = OpenAIModel("openai:mock", ModelOptions(base_url=url))
        gens = run(m, prompts(3))
        assert all(parse_review(g.text).verdict != "abstain" for g in gens.values())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
