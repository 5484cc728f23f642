"""Tolerant parsing of model replies into reviews; anything unusable is an abstain."""

from __future__ import annotations

import pytest

from bench.reviewing.parse import parse_review, parse_witness

GOOD = '{"verdict": "buggy", "p_buggy": 0.8, "lines": [3, 4], "explanation": "off by one", "witness": "([1, 2], 3)"}'


@pytest.mark.parametrize("text", [
    GOOD,
    f"Sure! Here is my review:\n```json\n{GOOD}\n```\nHope this helps.",
    f"Thinking... {{not json}} then {GOOD} and more",
    '{"verdict": "buggy", "p_buggy": 0.8, "lines": [3, 4,], "explanation": "off by one", "witness": "([1, 2], 3)",}',
    "{'verdict': 'buggy', 'p_buggy': 0.8, 'lines': [3, 4], 'explanation': 'off by one', 'witness': '([1, 2], 3)'}",
])
def test_well_formed_in_many_wrappings(text):
    r = parse_review(text)
    assert (r.verdict, r.p_buggy, r.lines, r.witness) == ("buggy", 0.8, (3, 4), "([1, 2], 3)")
    assert r.raw == text and r.parse_error is None


@pytest.mark.parametrize("text", ["", "I think it is fine.", "{}", '{"verdict": "maybe"}', "```json\n{broken\n```",
                                  '{"p_buggy": "high"}', "[1, 2, 3]", "\x00\xff garbage"])
def test_unusable_is_abstain(text):
    r = parse_review(text)
    assert r.verdict == "abstain" and r.p_buggy == 0.5 and r.raw == text and r.parse_error


def test_missing_fields_are_filled():
    r = parse_review('{"verdict": "correct"}')
    assert r.verdict == "correct" and r.p_buggy == 0.1 and r.lines == () and r.witness is None
    r = parse_review('{"p_buggy": 0.7}')
    assert r.verdict == "buggy" and r.p_buggy == 0.7
    r = parse_review('{"verdict": "buggy", "p_buggy": 7, "lines": ["2", "x", -1, 5]}')
    assert r.p_buggy == 1.0 and r.lines == (2, 5)
    assert parse_review('{"verdict": "buggy", "p_buggy": "85%"}').p_buggy == pytest.approx(0.85)


def test_witness_parsing():
    assert parse_witness("([1, 2], 3)") == ([1, 2], 3)
    assert parse_witness("5") == (5,)
    assert parse_witness("[1, 'a']") == (1, "a")
    assert parse_witness("__import__('os').system('x')") is None
    assert parse_witness(None) is None and parse_witness("") is None


def test_raw_newlines_inside_json_strings_are_read():
    """llama.cpp's server writes raw newlines inside JSON strings (not valid JSON, but unambiguous)."""
    r = parse_review('{"verdict": "buggy", "p_buggy": 0.9, "explanation": "line one\nline two", "lines": [2]}')
    assert r.verdict == "buggy" and r.p_buggy == 0.9 and r.explanation == "line one\nline two"
