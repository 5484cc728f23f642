"""A real OpenAI-compatible HTTP server on loopback, for tests, benchmarks and dry runs.

``MockServer`` answers ``POST /v1/chat/completions`` with OpenAI-shaped JSON after
``latency_s`` and ``GET /v1/models`` with one model. Faults are injected
deterministically per request *content* (sha256 of the messages), so a given prompt is
always treated the same way:

- malformed: the reply is not a usable review (prose, truncated JSON, empty, null);
- rate-limited: the first attempt gets ``429`` with ``Retry-After: 0``; later ones succeed;
- error: the first attempt gets ``500`` or ``503``; later ones succeed;
- slow: the first attempt sleeps ``slow_s`` before answering (a shorter client timeout retries);
- fail_always: every attempt gets ``500``.

Run it by hand with ``python -m tools.mock_server --port 8000 --latency 0.2``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[list[dict[str, Any]]], str]
MODEL_ID = "mock-reviewer"
FAULTS = ("malformed", "rate_limit", "error", "slow", "fail_always")

_DOCTEST = re.compile(r"^\s*>>>\s*[A-Za-z_][\w.]*\((.*)\)\s*$", re.MULTILINE)


def _sha(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _text(content: Any) -> str:
    """Message content as text (plain string or a list of ``{"type": "text"}`` parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _last_user(messages: Sequence[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text(message.get("content"))
    return ""


def _witness_args(text: str) -> str | None:
    """The first doctest call's arguments as a literal tuple string: ``add(2, 3)`` -> ``"(2, 3)"``."""
    match = _DOCTEST.search(text)
    if match is None:
        return None
    args = match.group(1).strip()
    if not args:
        return "()"
    try:
        call = ast.parse(f"_({args})", mode="eval").body
        single = isinstance(call, ast.Call) and len(call.args) == 1 and not call.keywords
    except SyntaxError:
        single = "," not in args
    return f"({args},)" if single else f"({args})"


def review_responder(messages: list[dict[str, Any]]) -> str:
    """A deterministic, well-formed review of the last user message, fenced like real models reply."""
    user = _last_user(messages)
    h = _sha(user)
    buggy = bool(h[0] & 1)
    frac = int.from_bytes(h[4:8], "big") / 2**32
    p_buggy = round(0.55 + 0.44 * frac, 3) if buggy else round(0.01 + 0.44 * frac, 3)
    witness = _witness_args(user) if h[1] % 2 == 0 else None
    review = {
        "verdict": "buggy" if buggy else "correct",
        "p_buggy": p_buggy,
        "lines": [1 + h[2] % 20],
        "explanation": (
            f"Line {1 + h[2] % 20} mishandles an edge case." if buggy else "The logic matches the specification."
        ),
        "witness": witness,
    }
    return f"Here is my review of the candidate.\n\n```json\n{json.dumps(review, indent=2)}\n```\n"


def _malformed(h: bytes) -> str | None:
    """A reply with no usable review (varied deterministically); None means ``content: null``."""
    kind = h[3] % 4
    if kind == 0:
        return "I looked at the function carefully. It seems mostly reasonable, but I cannot say for sure."
    if kind == 1:
        return 'Here is my review:\n```json\n{"verdict": "buggy", "p_buggy": 0.8, "lines": [3'
    if kind == 2:
        return ""
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True
    mock: MockServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: responses carry Content-Length
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are dropped after this
    server: _Server
    server_version = "OversightBenchMock/1"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.server.mock._count(status)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (e.g. timed out) and closed the socket
            self.close_connection = True

    def _error(self, status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> None:
        payload = {"error": {"message": message, "type": kind, "param": None, "code": None}}
        self._send_json(status, payload, headers)

    def do_GET(self) -> None:
        mock = self.server.mock
        mock._enter()
        try:
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "oversightbench"}
                self._send_json(200, {"object": "list", "data": [model]})
            else:
                self._error(404, f"no route GET {self.path}", "not_found_error")
        finally:
            mock._leave()

    def do_POST(self) -> None:
        mock = self.server.mock
        mock._enter()
        try:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                self._error(404, f"no route POST {self.path}", "not_found_error")
                return
            try:
                body = json.loads(raw)
                messages = body["messages"]
                if not isinstance(messages, list):
                    raise TypeError("messages must be a list")
            except (ValueError, KeyError, TypeError) as exc:
                self._error(400, f"invalid request body: {exc}", "invalid_request_error")
                return
            mock._chat(self, body, messages)
        finally:
            mock._leave()


class MockServer:
    """An OpenAI-compatible server on a loopback port, run in a background thread.

    Args:
        latency_s: sleep before every reply.
        responder: ``callable(messages) -> str`` giving the reply text; default :func:`review_responder`.
        responders: per model name, a responder used instead of ``responder`` (several mock models on one server).
        malformed_rate: share of prompts whose reply is never a usable review.
        rate_limit_rate: share of prompts whose first attempt gets 429 (``Retry-After: 0``).
        error_rate: share of prompts whose first attempt gets 500 or 503.
        slow_rate: share of prompts whose first attempt sleeps ``slow_s`` first.
        slow_s: extra sleep of a slow first attempt.
        fail_always_rate: share of prompts that always get 500.
        host: address to bind.
        port: port to bind; 0 picks a free one.

    The rates are disjoint shares of prompt space (their sum must be <= 1), chosen by
    sha256 of the request's messages. Use as a context manager, or ``start()``/``stop()``.
    """

    def __init__(
        self,
        latency_s: float = 0.0,
        responder: Responder | None = None,
        responders: dict[str, Responder] | None = None,
        malformed_rate: float = 0.0,
        rate_limit_rate: float = 0.0,
        error_rate: float = 0.0,
        slow_rate: float = 0.0,
        slow_s: float = 5.0,
        fail_always_rate: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        rates = (malformed_rate, rate_limit_rate, error_rate, slow_rate, fail_always_rate)
        if any(r < 0 for r in rates) or sum(rates) > 1.0 + 1e-9:
            raise ValueError(f"fault rates must be >= 0 and sum to <= 1, got {rates}")
        self.latency_s = latency_s
        self.responder: Responder = responder or review_responder
        self.responders: dict[str, Responder] = dict(responders or {})
        self.rates = dict(zip(FAULTS, rates, strict=True))
        self.slow_s = slow_s
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._attempts: Counter[str] = Counter()
        self._requests = 0
        self._by_status: Counter[int] = Counter()
        self._by_fault: Counter[str] = Counter()
        self._in_flight = 0
        self._max_in_flight = 0
        self._with_tools = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> MockServer:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.mock = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"mock-server:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (in-flight handlers are daemon threads)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1`` (the port is known once started)."""
        return f"http://{self.host}:{self.port}/v1"

    # -- stats -------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counts so far: ``requests``, ``by_status`` {code: n}, ``by_fault``, ``in_flight``, ``max_in_flight``."""
        with self._lock:
            return {
                "requests": self._requests,
                "by_status": dict(self._by_status),
                "by_fault": dict(self._by_fault),
                "in_flight": self._in_flight,
                "max_in_flight": self._max_in_flight,
                "with_tools": self._with_tools,
            }

    def reset_stats(self) -> None:
        """Zero the counters and forget attempts per prompt."""
        with self._lock:
            self._requests = 0
            self._by_status.clear()
            self._by_fault.clear()
            self._attempts.clear()
            self._max_in_flight = self._in_flight

    def fault_for(self, messages: list[dict[str, Any]]) -> str | None:
        """The fault injected for these messages (one of :data:`FAULTS`), or None."""
        return self._fault(_sha(json.dumps(messages, sort_keys=True, ensure_ascii=False)))

    def _fault(self, h: bytes) -> str | None:
        u = int.from_bytes(h[:8], "big") / 2**64
        edge = 0.0
        for name in FAULTS:
            edge += self.rates[name]
            if u < edge:
                return name
        return None

    def _enter(self) -> None:
        with self._lock:
            self._requests += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _count(self, status: int) -> None:
        with self._lock:
            self._by_status[status] += 1

    # -- the endpoint ------------------------------------------------------------------

    def _chat(self, handler: _Handler, body: dict[str, Any], messages: list[dict[str, Any]]) -> None:
        key = json.dumps(messages, sort_keys=True, ensure_ascii=False)
        h = _sha(key)
        fault = self._fault(h)
        with self._lock:
            self._attempts[key] += 1
            attempt = self._attempts[key]
            if fault is not None:
                self._by_fault[fault] += 1
        first = attempt == 1
        if self.latency_s > 0:
            time.sleep(self.latency_s)
        if fault == "rate_limit" and first:
            handler._error(429, "Rate limit reached; retry later.", "rate_limit_error", {"Retry-After": "0"})
            return
        if fault == "error" and first:
            status = 500 if h[8] % 2 == 0 else 503
            handler._error(status, "The server had an error while processing your request.", "server_error")
            return
        if fault == "fail_always":
            handler._error(500, "The server had an error while processing your request.", "server_error")
            return
        if fault == "slow" and first:
            time.sleep(self.slow_s)
        responder = self.responders.get(str(body.get("model") or ""), self.responder)
        reply: Any = _malformed(h) if fault == "malformed" else responder(messages)
        tool_calls = None
        if isinstance(reply, dict):  # a responder may answer with native tool calls: {"tool_calls": [{name, arguments}]}
            tool_calls = [{"id": f"call_{h[:6].hex()}_{k}", "type": "function",
                           "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])}}
                          for k, c in enumerate(reply.get("tool_calls", []))]
            reply = reply.get("content")
        content: str | None = reply
        with self._lock:
            self._with_tools += 1 if body.get("tools") else 0
        prompt_tokens = 1 + sum(len(_text(m.get("content"))) for m in messages if isinstance(m, dict)) // 4
        completion_tokens = 1 + len(content or "") // 4
        handler._send_json(200, {
            "id": f"chatcmpl-{h[:12].hex()}-{attempt}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model") or MODEL_ID),
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content,
                            **({"tool_calls": tool_calls} if tool_calls else {})},
                "finish_reason": "tool_calls" if tool_calls else "stop",
                "logprobs": None,
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        })



# -- scripted models for protocol demos and tests -----------------------------------------------------------------

_CODE_RE = re.compile(r"## Candidate implementation of `\w+`\n```\n(.*?)\n```", re.DOTALL)


def _shown_code(messages: list[dict[str, Any]]) -> str:
    """The candidate as the prompt shows it, line numbers removed."""
    m = _CODE_RE.search(_text(messages[-1].get("content")))
    lines = m.group(1).splitlines() if m else []
    return "\n".join(re.sub(r"^\s*\d+ \| ?", "", line) for line in lines)


def _scripted_review(verdict: str, witness: str | None = None) -> str:
    return json.dumps({"verdict": verdict, "p_buggy": 0.9 if verdict == "buggy" else 0.1, "lines": [],
                       "explanation": "scripted", "witness": witness})


def suite_facts(suite: Any = None) -> dict[str, tuple[str, str | None, str, str]]:
    """code -> (label, a failing input as a literal tuple or None, a valid input, task id), every split."""
    from harness import codec
    from tasks.suite import load_suite

    suite = suite or load_suite()
    out = {}
    for c in suite.candidates:
        w = json.loads(c.witnesses)
        fail = repr(tuple(codec.loads(w[0]["input"]))) if w else None
        known = suite.tasks[c.task_id].visible() or suite.tasks[c.task_id].hidden()  # some tasks have no examples
        out[c.code] = (c.label, fail, repr(tuple(known[0][0])), c.task_id)
    return out


def protocol_demo_responders(facts: dict[str, tuple[str, str | None, str, str]] | None = None) -> dict[str, Responder]:
    """Scripted mock models for the oversight protocols, by model name.

    They read the suite's labels, so they are props for demos and tests, not models:

    - ``weak-direct``: a coin keyed by the code (chance);
    - ``strong``: knows the truth; reviews correctly, critiques truthfully, and as a debater or
      consultant argues its assigned side, bringing ``EVIDENCE`` only when the side is true;
    - ``judge-last``: follows whoever spoke last; ``judge-evidence``: believes the side with evidence
      (alone, on a direct prompt, it calls everything correct);
    - ``exec-runner``: asks for an input outside the contract, then a known failing input, then
      reports what it saw; ``exec-native``: the same through a native ``run`` tool call.
    """
    facts = facts if facts is not None else suite_facts()

    def weak_direct(messages: list[dict[str, Any]]) -> str:
        return _scripted_review("buggy" if sum(map(ord, _shown_code(messages))) % 2 else "correct")

    def strong(messages: list[dict[str, Any]]) -> str:
        label, fail, _, _ = facts[_shown_code(messages)]
        user = _text(messages[-1].get("content"))
        side = re.search(r"You argue that the candidate is (BUGGY|CORRECT)", user)
        if side:
            mine = side.group(1).lower()
            evidence = f" EVIDENCE: it fails on {fail}." if mine == label and label == "buggy" else (
                " EVIDENCE: every example passes and the logic matches the docstring." if mine == label else "")
            return f"SIDE: {mine}. I maintain the candidate is {mine}.{evidence}"
        if "Write your critique" in user:
            return f"VERDICT: {label}." + (f" It fails on {fail}." if label == "buggy" else "")
        return _scripted_review(label, fail if label == "buggy" else None)

    def judge_last(messages: list[dict[str, Any]]) -> str:
        user = _text(messages[-1].get("content"))
        if user.rstrip().endswith("Your question:"):
            return "What does it return on the first example?"
        sides = re.findall(r"SIDE: (buggy|correct)", user)
        return _scripted_review(sides[-1] if sides else "correct")

    def judge_evidence(messages: list[dict[str, Any]]) -> str:
        user = _text(messages[-1].get("content"))
        if user.rstrip().endswith("Your question:"):
            return "Can you show evidence?"
        m = re.search(r"SIDE: (buggy|correct)\.[^\[]*EVIDENCE", user)
        v = re.search(r"VERDICT: (buggy|correct)", user)
        return _scripted_review(m.group(1) if m else (v.group(1) if v else "correct"))

    def exec_runner(messages: list[dict[str, Any]]) -> str:
        label, fail, valid, _ = facts[_shown_code(messages)]
        outputs = re.findall(r"\[sandbox\] (.*)", _text(messages[-1].get("content")).split("## Runs so far", 1)[-1])
        if not outputs:
            return "Let me try an edge case first.\nRUN: ()"
        if outputs[-1].startswith("refused"):
            return f"RUN: {fail or valid}"
        return _scripted_review(label, fail if label == "buggy" and fail else None)

    def exec_native(messages: list[dict[str, Any]]) -> Any:
        label, fail, valid, _ = facts[_shown_code(messages)]
        if "[sandbox]" not in _text(messages[-1].get("content")):
            return {"content": None, "tool_calls": [{"name": "run", "arguments": {"args": fail or valid}}]}
        return _scripted_review(label, fail if label == "buggy" and fail else None)

    return {"weak-direct": weak_direct, "strong": strong, "judge-last": judge_last, "judge-evidence": judge_evidence,
            "exec-runner": exec_runner, "exec-native": exec_native}


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m tools.mock_server``: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m tools.mock_server", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before every reply")
    parser.add_argument("--malformed-rate", type=float, default=0.0)
    parser.add_argument("--rate-limit-rate", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--slow-rate", type=float, default=0.0)
    parser.add_argument("--slow-s", type=float, default=5.0)
    parser.add_argument("--fail-always-rate", type=float, default=0.0)
    parser.add_argument("--protocol-demo", action="store_true",
                        help="also serve the scripted protocol models (weak-direct, strong, judge-last, judge-evidence, "
                             "exec-runner, exec-native); they read the suite's labels")
    args = parser.parse_args(argv)
    server = MockServer(
        latency_s=args.latency, malformed_rate=args.malformed_rate, rate_limit_rate=args.rate_limit_rate,
        error_rate=args.error_rate, slow_rate=args.slow_rate, slow_s=args.slow_s,
        fail_always_rate=args.fail_always_rate, host=args.host, port=args.port,
        responders=protocol_demo_responders() if args.protocol_demo else None,
    ).start()
    print(f"mock OpenAI server at {server.base_url} (model {MODEL_ID!r}); Ctrl-C to stop", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print("stopped", flush=True)


if __name__ == "__main__":
    main()
