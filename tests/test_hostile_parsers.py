"""Hostile model text: every parser of untrusted replies is total and bounded.

Total: for any input a parser returns a result (or a recorded per-item error) and never
raises. Bounded: work is linear in a capped prefix of the input. Nothing the harness
cannot encode reaches the sandbox. Time is never asserted as wall-clock numbers: the
worst cases are built here and ``pytest-timeout`` guards them with wide margins.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from bench.generation.extract import MAX_REPLY_CHARS as EXTRACT_CHARS
from bench.generation.extract import STATUSES, extract_code
from bench.reviewing.parse import MAX_REPLY_CHARS, Review, parse_review, parse_witness, read_witness, run_request
from bench.reviewing.protocols.exec import EXAMPLE_CHARS, ExecReviewer, example_run, find_run
from harness import codec
from tasks.contracts import Contract, encoding_problem

HUGE_HEX = "(0x" + "f" * 5000 + ",)"
DIGITS = "9" * 5000
DEEP = 100_000
PROMPT = 'def f(x):\n    """Return x."""\n'
# deadline=None: a loaded machine must not fail them. No example database, and hypothesis's other
# caches go to the temp directory: nothing is written into the repository.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "obench-hypothesis")
SETTINGS = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))

# ------------------------------------------------------------------ helpers


@contextlib.contextmanager
def any_int_digits() -> Iterator[None]:
    """Let the test itself write integers of any length (the code under test runs with the default limit)."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(old)


def storable(r: Review) -> None:
    """What a run does with a review works: JSON in UTF-8 (predictions.jsonl) and pydantic's own JSON."""
    json.dumps(r.model_dump(), sort_keys=True, ensure_ascii=False).encode("utf-8")
    r.model_dump_json()


def well_formed(r: Review) -> None:
    assert isinstance(r, Review) and r.verdict in ("buggy", "correct", "abstain")
    assert math.isfinite(r.p_buggy) and 0.0 <= r.p_buggy <= 1.0
    assert all(type(n) is int and 1 <= n <= 10_000 for n in r.lines)
    if r.verdict == "abstain":
        assert r.p_buggy == 0.5 and r.parse_error
    assert len(r.raw) <= MAX_REPLY_CHARS and len(r.explanation) <= 4_000
    storable(r)
    if r.witness is not None:
        check_witness(r.witness)
    again = parse_review(r.raw)  # leaderboard validation re-parses the stored raw text
    assert (again.verdict, again.p_buggy, again.lines, again.witness) == (r.verdict, r.p_buggy, r.lines, r.witness)


def harness_safe(args: tuple[Any, ...]) -> None:
    """Arguments the sandbox receives unchanged: they encode to JSON, and no part is cut as too deep."""
    assert isinstance(args, tuple)
    text = codec.dumps(list(args))
    assert "<too deep>" not in text


def exec_reviewer() -> tuple[ExecReviewer, Any]:
    """An exec reviewer with only what ``_refusal`` reads, and an episode of one task (without a contract)."""
    reviewer = ExecReviewer.__new__(ExecReviewer)
    task = SimpleNamespace(task_id="t/0", source="", contract_spec="", entry_point="f", visible=lambda: [((1, "a"), 2)])
    reviewer.suite = SimpleNamespace(tasks={"t/0": task})
    reviewer.sandbox = None
    return reviewer, SimpleNamespace(request=SimpleNamespace(task_id="t/0", entry_point="f"), data={})


def review(**fields: Any) -> str:
    return json.dumps({"verdict": "buggy", "p_buggy": 0.9, **fields})


# ------------------------------------------------------------------ regression tests (one per known failure)


def test_overflow_float_in_lines_does_not_raise():
    r = parse_review('{"verdict": "buggy", "p_buggy": 0.9, "lines": [1e999]}')
    assert (r.verdict, r.p_buggy, r.lines) == ("buggy", 0.9, ())
    r = parse_review('{"verdict": "buggy", "p_buggy": 0.9, "lines": [1e999, -1e999, NaN, Infinity, 4]}')
    assert r.lines == (4,)


def test_int_past_digit_limit_does_not_raise():
    r = parse_review('{"verdict": "buggy", "p_buggy": 0.9, "lines": [' + DIGITS + ", 3]}")
    assert (r.verdict, r.lines) == ("buggy", (3,))
    r = parse_review('{"verdict": "buggy", "p_buggy": ' + DIGITS + "}")
    assert r.verdict == "abstain" and "p_buggy" in (r.parse_error or "")
    big = "0x" + "f" * 5000  # Python-literal replies: a hex literal has no digit limit, its repr has
    r = parse_review("{'verdict': 'buggy', 'p_buggy': 0.8, 'lines': [" + big + "], 'witness': [" + big + "],"
                     " 'explanation': {'n': " + big + "}}")
    assert (r.verdict, r.p_buggy, r.lines) == ("buggy", 0.8, ())
    well_formed(r)


def test_deep_nesting_does_not_raise():
    deep = "[" * DEEP + "]" * DEEP
    r = parse_review('{"verdict": "buggy", "p_buggy": 0.9, "x": ' + deep + "}")
    assert r.verdict == "abstain" and r.parse_error
    r = parse_review("{'verdict': 'buggy', 'x': " + deep + "}")
    assert r.verdict == "abstain"
    r = parse_review('{"x": ' + "[" * 20_000 + "]" * 20_000 + '} and then {"verdict": "correct", "p_buggy": 0.2}')
    assert (r.verdict, r.p_buggy) == ("correct", 0.2)
    assert parse_witness("(" + deep + ",)") is None


def test_deep_witness_is_rejected_not_truncated_by_the_codec():
    # 150 levels parse as a literal, but the codec would silently cut everything past depth 100
    w = "(" + "[" * 150 + "]" * 150 + ",)"
    assert parse_witness(w) is None
    got = read_witness(w)
    assert got.status == "invalid_input" and "deep" in got.reason


def test_non_finite_p_buggy_is_abstain():
    for p in ("NaN", "Infinity", "-Infinity", "1e999", '"nan"', '"inf"', '"-inf %"'):
        r = parse_review('{"verdict": "buggy", "p_buggy": ' + p + "}")
        assert r.verdict == "abstain" and r.p_buggy == 0.5 and "p_buggy" in (r.parse_error or ""), p
        storable(r)


def test_non_finite_lines_are_dropped():
    r = parse_review('{"verdict": "correct", "p_buggy": 0.1, "lines": [NaN, Infinity, 2, -Infinity]}')
    assert (r.verdict, r.lines) == ("correct", (2,))


def test_lone_surrogates_survive_storage():
    r = parse_review('{"verdict": "buggy", "p_buggy": 0.9, "explanation": "bad \\ud800 here", "witness": "(\'\\udfff\',)"}')
    assert r.verdict == "buggy" and r.explanation == "bad \ufffd here" and r.witness == "('\ufffd',)"
    storable(r)
    r = parse_review('{"verdict": "buggy", "p_buggy": 0.9, "explanation": "raw \ud800\udc00"}\n\udfff')
    assert r.verdict == "buggy" and "\ufffd" in r.raw and "\ufffd" in r.explanation
    storable(r)
    storable(parse_review("\ud800" * 1000))


def test_megabyte_strings_are_bounded():
    r = parse_review(review(explanation="x" * 2_000_000))
    assert r.verdict == "abstain" and len(r.raw) <= MAX_REPLY_CHARS  # the object is cut: no verdict survives
    r = parse_review(review(explanation="y" * 1_000) + " " + "z" * 2_000_000)
    assert r.verdict == "buggy" and len(r.explanation) == 1_000 and len(r.raw) <= MAX_REPLY_CHARS
    r = parse_review("{" * 1_000_000)
    assert r.verdict == "abstain" and len(r.raw) <= MAX_REPLY_CHARS
    well_formed(r)


def test_null_true_false_fallback_keeps_string_contents():
    text = "{'verdict': 'buggy', 'p_buggy': 0.9, 'explanation': 'it returns null when true', 'witness': null, 'x': false}"
    r = parse_review(text)
    assert (r.verdict, r.explanation, r.witness) == ("buggy", "it returns null when true", None)
    r = parse_review("{'verdict': \"correct\", 'explanation': \"don't say 'false' or null\", 'lines': [true, 2],}")
    assert (r.verdict, r.explanation, r.lines) == ("correct", "don't say 'false' or null", (2,))


def test_lines_keep_only_sane_ints():
    r = parse_review(review(lines=[0, 1, 10_000, 10_001, 99_999, -3, 2.0, 2.5, True, "7", " 8 ", None, [1], "x"]))
    assert r.lines == (1, 2, 7, 8, 10_000)


def test_huge_hex_witness_never_reaches_the_sandbox():
    assert parse_witness(HUGE_HEX) is None
    got = read_witness(HUGE_HEX)
    assert got.args is None and got.status == "invalid_input" and "digits" in got.reason
    # what parse_witness does return, the harness can encode
    for ok in ("(1024,)", "(0x" + "f" * 200 + ",)", "(1e999, [1, (2, {3: b'4'})])"):
        args = parse_witness(ok)
        assert args is not None
        harness_safe(args)


def test_contract_rejects_what_the_harness_cannot_encode():
    anything = Contract(pre=lambda *a: True, note="anything")
    assert anything.accepts((1, [2], "x"))
    too_big = (int("f" * 5000, 16),)
    too_deep: Any = 1
    for _ in range(150):
        too_deep = [too_deep]
    for args in (too_big, (too_deep,)):
        assert not anything.accepts(args)
        assert encoding_problem(args) is not None and anything.violation(args) == (
            f"the harness cannot encode it ({encoding_problem(args)})")
    with pytest.raises(ValueError):  # the failure these checks keep out of the sandbox
        codec.dumps(list(too_big))


def test_exec_run_line_with_unencodable_input_is_refused():
    reviewer, ep = exec_reviewer()
    for line, why in ((f"RUN: {HUGE_HEX}", "digits"), ("RUN: (" + "[" * 40 + "]" * 40 + ",)", "deep"),
                      ("RUN: ('" + "a" * 20_000 + "',)", "characters")):
        call = find_run("Let me try.\n" + line + "\n")
        assert call is not None
        msg = reviewer._refusal(ep, call)
        assert msg is not None and msg.startswith("refused:") and why in msg and msg.endswith("nothing was run"), msg
        assert len(msg) < 1000


@pytest.mark.timeout(60)
def test_find_run_is_linear_on_blank_lines():
    assert find_run("\n" * 50_000) is None
    assert find_run(" \n\t" * 30_000 + "RUN: (1,)") == "(1,)"
    assert find_run("RUN: a" + " " * 50_000 + "b") == "a" + " " * 50_000 + "b"
    assert find_run("RUN:" + "\n" * 50_000 + "`(2,)`") == "(2,)" and find_run("RUN:" + "\n" * 50_000) is None


@pytest.mark.timeout(60)
def test_fence_scan_is_linear():
    r = parse_review("```" + " " * 300_000)
    assert r.verdict == "abstain"
    r = parse_review("```json" + "\n" * 99_000 + '{"verdict": "buggy"}```')
    assert r.verdict == "buggy"


@pytest.mark.timeout(120)
def test_extract_code_megabyte_reply_is_cut():
    reply = "def f(x):\n" + "    y = 1\n" * 100_000 + "    return y\n"
    r = extract_code(reply, "f", PROMPT)
    assert r.status in STATUSES and f"{EXTRACT_CHARS:,}" in r.detail
    assert r.code is None or len(r.code) <= EXTRACT_CHARS + 1_000


def test_extract_code_hostile_code_never_raises():
    for reply in ("```python\ndef f(x):\n    return " + HUGE_HEX + "\n```",
                  "```python\ndef f(x):\n    return " + DIGITS + "\n```",
                  "```python\ndef f(x):\n    return " + "[" * DEEP + "]" * DEEP + "\n```",
                  "```python\ndef f(x):\n    return x" + ".a" * DEEP + "\n```",
                  "```python\ndef f(x):\n    return '\ud800'\n```",
                  "\ud800" * 10_000):
        r = extract_code(reply, "f", PROMPT)
        assert r.status in STATUSES and (r.code is None) == (r.status != "ok") and "\n" not in r.detail
        r.detail.encode("utf-8")  # details are written to generations.jsonl


# ------------------------------------------------------------------ property-based tests

any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=400)
reply_bits = st.sampled_from(['{"verdict": ', '"buggy"', "'correct'", '"p_buggy": ', "0.7", "NaN", "1e999", DIGITS[:50],
                              '"lines": [', "], ", "[", "]", "{", "}", ",", "'", '"', "\\", "null", "true", "```",
                              "```json\n", "\n", "RUN: ", "(", ")", "\ud800", "0x" + "f" * 40, '"witness": "'])
tokenish = st.lists(st.one_of(reply_bits, any_text), max_size=40).map("".join)


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**6000), max_value=10**6000),
        st.floats(allow_nan=True, allow_infinity=True), st.text(st.characters(codec=None, exclude_categories=()),
                                                                max_size=30))
    return st.recursive(scalars, lambda kids: st.one_of(st.lists(kids, max_size=5),
                                                        st.dictionaries(st.text(max_size=8), kids, max_size=5)),
                        max_leaves=30)


jsonish_review = st.fixed_dictionaries({}, optional={
    "verdict": st.one_of(st.sampled_from(["buggy", "correct", "maybe", "BUG", ""]), _json_values()),
    "p_buggy": st.one_of(st.floats(), st.sampled_from(["85%", "nan", "inf", "1e999", "0.3"]), _json_values()),
    "lines": _json_values(), "explanation": _json_values(), "witness": st.one_of(st.text(max_size=40), _json_values()),
})


@SETTINGS
@given(any_text)
def test_parse_review_is_total_on_any_text(text):
    well_formed(parse_review(text))


@SETTINGS
@given(any_text, any_text)
def test_protocol_transcripts_are_always_storable(reply, output):
    """A protocol turn keeps model replies and run outputs as text any UTF-8 file can hold (surrogates included)."""
    from bench.reviewing.protocols import Episode
    from bench.reviewing.reviewers import ReviewRequest

    ep = Episode(ReviewRequest("c", "t", PROMPT, "f", "def f(x):\n    return x\n"))
    ep.add("judge", reply, input_tokens=3, note=output)
    ep.add("run", output)
    json.dumps(ep.transcript, ensure_ascii=False).encode("utf-8")
    assert ep.transcript[0]["input_tokens"] == 3 and len(ep.transcript[0]["content"]) == len(reply)
    ep.shown(200).encode("utf-8")


@SETTINGS
@given(tokenish)
def test_parse_review_is_total_on_reply_fragments(text):
    well_formed(parse_review(text))


@SETTINGS
@given(jsonish_review, st.sampled_from(["{}", "Review:\n```json\n{}\n```\n", "prose {} prose {}", "{}"]),
       st.booleans())
def test_parse_review_is_total_on_structured_replies(obj, wrapper, python_style):
    with any_int_digits():
        body = repr(obj) if python_style else json.dumps(obj)
    well_formed(parse_review(wrapper.replace("{}", body)))


@SETTINGS
@given(st.integers(min_value=0, max_value=200_000), st.sampled_from(["[]", "{}", "()"]),
       st.sampled_from(["lines", "witness", "explanation", "p_buggy"]))
def test_parse_review_is_total_on_deep_nesting(depth, pair, field):
    nested = pair[0] * depth + pair[1] * depth
    well_formed(parse_review('{"verdict": "buggy", "' + field + '": ' + nested + "}"))
    well_formed(parse_review("{'verdict': 'buggy', '" + field + "': '" + nested + "'}"))


@SETTINGS
@given(st.integers(min_value=-(10**9000), max_value=10**9000),
       st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["lines", "p_buggy"]))
def test_parse_review_is_total_on_huge_and_non_finite_numbers(n, x, field):
    with any_int_digits():
        digits = str(n)
    well_formed(parse_review('{"verdict": "buggy", "' + field + '": [' + digits + "]}"))
    well_formed(parse_review('{"verdict": "buggy", "' + field + '": ' + json.dumps(x) + "}"))
    well_formed(parse_review("{'verdict': 'buggy', '" + field + "': " + hex(n) + "}"))


@settings(SETTINGS, max_examples=8)
@given(st.integers(min_value=100_000, max_value=3_000_000), st.sampled_from("x\n{[\"'`\ud800 "))
def test_parse_review_is_total_on_megabyte_strings(size, ch):
    well_formed(parse_review(review(explanation=ch * size)))
    well_formed(parse_review(ch * size))


def _literals() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**1200), max_value=10**1200),
                        st.floats(allow_nan=True, allow_infinity=True), st.complex_numbers(),
                        st.text(st.characters(codec=None, exclude_categories=()), max_size=20), st.binary(max_size=20))
    return st.recursive(scalars, lambda kids: st.one_of(st.lists(kids, max_size=4), st.tuples(kids, kids),
                                                        st.dictionaries(st.integers() | st.text(max_size=5), kids,
                                                                        max_size=3)), max_leaves=25)


def _witness_text(value: Any) -> str:
    with any_int_digits():
        return repr(value)


def check_witness(text: str) -> None:
    got = read_witness(text)
    assert got.status in ("ok", "none", "unparseable", "invalid_input")
    assert (got.args is not None) == (got.status == "ok") and (got.status == "ok" or got.reason)
    assert repr(parse_witness(text)) == repr(got.args)
    if got.args is not None:
        harness_safe(got.args)


@SETTINGS
@given(any_text)
def test_parse_witness_is_total_on_any_text(text):
    check_witness(text)


@SETTINGS
@given(_literals())
def test_parse_witness_is_total_on_literals(value):
    check_witness(_witness_text(value))
    check_witness(_witness_text((value,)))


@SETTINGS
@given(st.integers(min_value=0, max_value=5_000), st.sampled_from(["[]", "()", "{}"]),
       st.integers(min_value=0, max_value=5_000))
def test_parse_witness_is_total_on_deep_nesting_and_huge_ints(depth, pair, hex_digits):
    check_witness("(" + pair[0] * depth + pair[1] * depth + ",)")
    check_witness("(" + pair[0] * depth + "0x" + "f" * (hex_digits + 1) + pair[1] * depth + ",)")


@SETTINGS
@given(st.one_of(any_text, tokenish), st.sampled_from(["", "RUN: ", "`RUN : ", "RUN:\n", "\n" * 50 + "RUN:"]),
       st.one_of(_literals().map(_witness_text), any_text))
def test_find_run_and_exec_refusal_are_total(prefix, run, args):
    reviewer, ep = exec_reviewer()
    call = find_run(prefix + "\n" + run + args)
    assert call is None or isinstance(call, str)
    if call is None:
        return
    refusal = reviewer._refusal(ep, call)
    if refusal is None:  # it would be run: exactly what parse_witness gives, and the harness can send it
        args_ = parse_witness(call)
        assert args_ is not None
        harness_safe(args_)
    else:
        assert refusal.startswith("refused:") and len(refusal) < 1000


class _Unequal:
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no comparison")

    def __repr__(self) -> str:
        return "1"


@SETTINGS
@given(st.lists(st.tuples(st.lists(st.one_of(_json_values(), st.just(_Unequal()), st.sets(st.integers(), max_size=3)),
                                   max_size=4), _json_values()), max_size=6), st.booleans())
def test_example_run_is_total_and_only_offers_a_literal_of_a_visible_example(examples, broken):
    """The exec prompt's run-format example comes from task records (untrusted files): whatever their visible
    values, it is empty or the shortest example that round-trips as a literal, and its call names the task."""
    def visible() -> list[tuple[tuple[Any, ...], Any]]:
        if broken:
            raise ValueError("a visible_tests field that does not decode")
        return [(tuple(a), e) for a, e in examples]

    call, run = example_run(SimpleNamespace(entry_point="f", visible=visible))
    assert isinstance(call, str) and isinstance(run, str)
    if broken or not run:
        assert (call, run) == ("", "") or not broken
        return
    import ast

    args = ast.literal_eval(run)
    assert isinstance(args, tuple) and len(run) <= EXAMPLE_CHARS and call.startswith("f(") and call.endswith(")")
    offered = [t for t in (_literal(tuple(a)) for a, _ in examples) if t is not None and len(t) <= EXAMPLE_CHARS]
    assert run in offered and all(len(t) >= len(run) for t in offered)


def _literal(args: tuple[Any, ...]) -> str | None:
    """``repr(args)`` if it reads back as ``args`` (under the default integer-digit limit), else None."""
    import ast

    try:
        text = repr(args)
        return text if ast.literal_eval(text) == args else None
    except Exception:  # noqa: BLE001
        return None


@SETTINGS
@given(st.one_of(any_text, tokenish, st.lists(st.sampled_from(
    ["def f(x):\n", "    return x\n", "```python\n", "```\n", "  ", "(", "0x" + "f" * 60, "\ud800", "import os\n",
     "if __name__ == '__main__':\n", "print(f(1))\n", "[" * 300, "class A:\n", "@d\n", "    y = (\n"]),
    max_size=30).map("".join)))
def test_extract_code_is_total(reply):
    r = extract_code(reply, "f", PROMPT)
    assert r.status in STATUSES and (r.code is None) == (r.status != "ok")
    assert isinstance(r.detail, str) and "\n" not in r.detail
    r.detail.encode("utf-8")
    if r.code is not None:
        compile(r.code, "<extracted>", "exec")


# ------------------------------------------------------------------ end to end: `obench eval` against hostile replies

OBENCH = [sys.executable, "-m", "obench"]


def _hostile_replies() -> list[str]:
    """Replies each of which must end as an abstain with ``parse_error`` or an invalid / unparseable witness."""
    deep = "[" * DEEP + "]" * DEEP
    return [
        review(lines=[1], explanation="e", witness=HUGE_HEX).replace("[1]", "[1e999]"),
        review(lines=[3], witness="(" + "[" * 40 + "1" + "]" * 40 + ",)").replace("[3]", "[" + DIGITS + "]"),
        '{"verdict": "buggy", "p_buggy": 0.9, "x": ' + deep + "}",
        '{"verdict": "buggy", "p_buggy": NaN, "witness": "(1,)"}',
        '{"verdict": "correct", "p_buggy": Infinity}',
        '{"verdict": "buggy", "p_buggy": 0.9, "explanation": "\ud800 \\udfff", "witness": "' + HUGE_HEX + '"}',
        review(explanation="m" * 50_000, witness="('" + "w" * 20_000 + "',)"),
        "{'verdict': 'buggy', 'p_buggy': 0.9, 'explanation': 'it returns null when true', 'witness': '(" + DIGITS
        + ",)'}",
        review(witness=[1]).replace("[1]", "[" + DIGITS + "]"),
        "```" + " " * 200_000,
        "\n" * 50_000 + "RUN: (1,)",
        "\ud800\udfff" * 100,
        "{'verdict': 'buggy', 'x': " + deep + "}",
        "x" * 1_500_000,
    ]


def _hostile_direct() -> Any:
    replies = _hostile_replies()
    counter = itertools.count()
    lock = threading.Lock()

    def responder(messages: list[dict[str, Any]]) -> str:
        with lock:
            n = next(counter)
        return replies[n % len(replies)]

    return responder


def _hostile_exec(messages: list[dict[str, Any]]) -> str:
    """Asks for three inputs the harness cannot take (each refused), then gives a non-finite review."""
    left = re.search(r"You have (\d+) run\(s\) left", str(messages[-1].get("content") or ""))
    runs = [f"RUN: {HUGE_HEX}", "\n" * 30_000 + "RUN: (" + "[" * 40 + "]" * 40 + ",)", "`RUN: ('" + "a" * 20_000 + "',)`"]
    return runs[len(runs) - int(left.group(1))] if left else '{"verdict": "buggy", "p_buggy": NaN}'


def _eval(server: Any, out: Path, reviewer: str, limit: int, *extra: str) -> list[dict[str, Any]]:
    res = subprocess.run([*OBENCH, "eval", "--reviewer", f"openai:{reviewer}", "--base-url", server.base_url,
                          "--split", "test", "--limit", str(limit), "--out", str(out), *extra],
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    preds = [json.loads(x) for x in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(preds) == limit and len({p["candidate_id"] for p in preds}) == limit
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    return preds


@pytest.mark.docker
@pytest.mark.timeout(900)
def test_eval_completes_on_hostile_replies(tmp_path):
    from tools.mock_server import MockServer

    with MockServer(responders={"hostile": _hostile_direct()}) as server:
        preds = _eval(server, tmp_path / "run", "hostile", 30)
    for p in preds:
        assert (p["verdict"] == "abstain" and p["parse_error"]) or p["witness_status"] in (
            "invalid_input", "unparseable"), (p["raw"][:200], p["witness_status"], p["witness_detail"])
        assert len(p["raw"]) <= 100_000 and all(1 <= n <= 10_000 for n in p["lines"])
    assert any(p["witness_status"] == "invalid_input" and "digits" in p["witness_detail"] for p in preds)


@pytest.mark.docker
@pytest.mark.timeout(900)
def test_exec_protocol_refuses_unencodable_runs_and_continues(tmp_path):
    from tools.mock_server import MockServer

    with MockServer(responders={"hostile-exec": _hostile_exec}) as server:
        preds = _eval(server, tmp_path / "exec", "hostile-exec", 8, "--protocol", "exec", "--tool-calls", "3")
    for p in preds:
        sandbox = [t for t in p["transcript"] if t["role"] == "sandbox"]
        assert len(sandbox) == 3 and all(t.get("refused") and t["content"].startswith("refused:") for t in sandbox)
        assert [w in t["content"] for t, w in zip(sandbox, ("digits", "deep", "characters"))] == [True] * 3
        assert p["verdict"] == "abstain" and p["parse_error"]


def test_run_request_reads_the_structured_exec_turn():
    assert run_request('{"run": " (3, [1, 2]) ", "verdict": "buggy", "p_buggy": 0.9}') == "(3, [1, 2])"
    assert run_request('{"run": null, "verdict": "correct", "p_buggy": 0.1}') is None
    assert run_request('{"run": "", "verdict": "correct"}') is None
    assert run_request('{"run": 3}') is None and run_request("RUN: (1,)") is None  # only JSON, only strings
    assert run_request('prose {"verdict": "buggy"} {"run": "(1,)"}') == "(1,)"


@SETTINGS
@given(st.one_of(any_text, tokenish), jsonish_review, _json_values())
def test_run_request_is_total(text, obj, run):
    with any_int_digits():
        turn = json.dumps({"run": run, **obj})
    for reply in (text, turn, text + turn):
        got = run_request(reply)
        assert got is None or (isinstance(got, str) and got == got.strip() and got)
