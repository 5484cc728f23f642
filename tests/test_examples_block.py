"""with_examples_block: a marked block of examples appended to a prompt's entry-point docstring."""

from __future__ import annotations

import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.visible import EXAMPLES_MARKER, docstring_of, parse_examples, with_examples_block

BODY = "    pass\n"

HUMANEVAL = '''from typing import List


def below_zero(operations: List[int]) -> bool:
    """ Return True if the balance ever falls below zero.
    >>> below_zero([1, 2, 3])
    False
    >>> below_zero([1, 2, -4, 5])
    True
    """
'''


def _doc(prompt: str, entry_point: str) -> str:
    tree = ast.parse(prompt + BODY)
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == entry_point)
    return ast.get_docstring(node, clean=False) or ""


def _assert_block(new: str, entry_point: str, examples: list) -> str:
    doc = _doc(new, entry_point)
    assert EXAMPLES_MARKER in doc
    for args, out in examples:
        assert f">>> {entry_point}({', '.join(map(repr, args))})\n" in doc
        assert "\n    " + repr(out) + "\n" in doc or "\n        " + repr(out) + "\n" in doc
    return doc


def test_humaneval_prompt_gets_block_that_round_trips():
    examples = [(([5, -6],), True), (([0],), False), ((["x", "y"],), False)]
    new = with_examples_block(HUMANEVAL, "below_zero", examples)
    assert new.startswith(HUMANEVAL[: HUMANEVAL.rindex('    """')])
    assert new.endswith('    False\n    """\n')
    doc = _assert_block(new, "below_zero", examples)
    assert ("True\n\n    " + EXAMPLES_MARKER + "\n    >>> below_zero([5, -6])\n    True\n") in doc
    parsed = parse_examples(new, "below_zero")
    assert [e.args for e in parsed] == [([1, 2, 3],), ([1, 2, -4, 5],), ([5, -6],), ([0],), (["x", "y"],)]
    assert [e.expected for e in parsed[2:]] == [True, False, False]
    assert with_examples_block(HUMANEVAL, "below_zero", examples) == new  # deterministic


def test_single_quote_docstring():
    prompt = "def add(x: int, y: int) -> int:\n    '''Add two numbers.\n    >>> add(2, 3)\n    5\n    '''\n"
    examples = [((1, 2), 3), (("a'b", "'''"), "a'b'''")]
    new = with_examples_block(prompt, "add", examples)
    _assert_block(new, "add", examples)
    assert [e.args for e in parse_examples(new, "add")] == [(2, 3), (1, 2), ("a'b", "'''")]


def test_raw_docstring_with_backslashes():
    prompt = 'def split_words(s):\n    r"""Split on \\s+ (a regex: \\d is kept).\n    """\n'
    examples = [(("a\\tb",), ["a\\tb"]), (('"""',), 1)]  # the second holds the docstring's own quote
    new = with_examples_block(prompt, "split_words", examples)
    doc = _doc(new, "split_words")
    assert "Split on \\s+ (a regex: \\d is kept)." in doc
    assert ">>> split_words('a\\\\tb')\n    ['a\\\\tb']\n" in doc  # the repr, shown exactly
    assert "'\"\"\"'" not in new  # skipped: a raw docstring cannot escape it
    assert [e.args for e in parse_examples(new, "split_words")] == [("a\\tb",)]


def test_repr_with_quotes_and_backslashes():
    value = 'a"b\\c'
    examples = [((value,), value + '"""'), ((["'''", '"""'],), "\\")]
    new = with_examples_block(HUMANEVAL, "below_zero", examples)
    _assert_block(new, "below_zero", examples)
    assert [e.args for e in parse_examples(new, "below_zero")][2:] == [(value,), (["'''", '"""'],)]


def test_function_without_docstring():
    prompt = "def solve(n: int) -> int:\n"
    new = with_examples_block(prompt, "solve", [((3,), 6)])
    assert new == prompt + f'    """\n    {EXAMPLES_MARKER}\n    >>> solve(3)\n    6\n    """\n'
    assert [e.args for e in parse_examples(new, "solve")] == [(3,)]
    method = "class Solution:\n    def solve(self, n):\n"
    new = with_examples_block(method, "solve", [((3,), 6)])
    assert new.startswith(method + '        """\n        ' + EXAMPLES_MARKER)
    ast.parse(new + "        pass\n")


def test_helper_function_before_entry_point():
    prompt = (
        'def helper(x):\n    """Helper doc."""\n    return x + 1\n\n\n'
        'def main(xs):\n    """Apply helper.\n    >>> main([1])\n    [2]\n    """\n'
    )
    new = with_examples_block(prompt, "main", [(([1, 2],), [2, 3])])
    assert docstring_of(new, "helper") == "Helper doc."
    assert new.startswith(prompt[: prompt.index("def main")])
    _assert_block(new, "main", [(([1, 2],), [2, 3])])
    assert [e.args for e in parse_examples(new, "main")] == [([1],), ([1, 2],)]


def test_one_line_and_concatenated_docstrings():
    for prompt in ("def f(x):\n    'Double x.'\n", 'def f(x): """Double x."""\n', "def f(x):\n    '''a''' 'b'\n"):
        new = with_examples_block(prompt, "f", [((2,), 4)])
        assert new != prompt
        doc = _doc(new, "f") if "def f(x): " not in new else ast.get_docstring(ast.parse(new).body[0]) or ""
        assert EXAMPLES_MARKER in doc and ">>> f(2)" in doc


def test_program_kind():
    prompt = "Read n numbers and print their sum."
    examples = [(("3\n1 2 3\n",), "6\n"), (("",), "")]
    new = with_examples_block(prompt, "unused", examples, kind="program")
    assert new == (
        prompt + "\n\n" + EXAMPLES_MARKER + "\n"
        "Input:\n    3\n    1 2 3\nOutput:\n    6\n"
        "Input: (empty)\nOutput: (empty)\n"
    )


def test_no_examples_or_odd_input_leaves_prompt_unchanged():
    assert with_examples_block(HUMANEVAL, "below_zero", []) == HUMANEVAL
    assert with_examples_block(HUMANEVAL, "missing", [((1,), 2)]) == HUMANEVAL
    assert with_examples_block("def f(:\n", "f", [((1,), 2)]) == "def f(:\n"
    assert with_examples_block(HUMANEVAL, "below_zero", [((1,), 2)], kind="other") == HUMANEVAL
    assert with_examples_block("text", "f", [((1, 2), "x"), ((1,), 3)], kind="program") == "text"

    class BadRepr:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    odd = [((BadRepr(),), 1), "junk", ((1,),), (("a\nb",), MultiLine()), (5, 6)]
    assert with_examples_block(HUMANEVAL, "below_zero", odd) == HUMANEVAL
    assert with_examples_block(HUMANEVAL, "below_zero", None) == HUMANEVAL  # type: ignore[arg-type]


class MultiLine:
    def __repr__(self) -> str:
        return "line 1\nline 2"


def test_sets_are_shown_sorted():
    new = with_examples_block(HUMANEVAL, "below_zero", [(({"b", "a", "c"},), frozenset({3, 1}))])
    assert ">>> below_zero({'a', 'b', 'c'})\n    frozenset({1, 3})\n" in new


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
PROMPTS = [
    HUMANEVAL,
    "def below_zero(ops):\n    r'''Raw \\d doc.\n    '''\n",
    'def below_zero(ops):\n    """One line."""\n',
    "def below_zero(ops):\n",
]


@settings(max_examples=150, deadline=None)
@given(
    prompt=st.sampled_from(PROMPTS),
    examples=st.lists(st.tuples(st.lists(json_values, min_size=1, max_size=3).map(tuple), json_values), max_size=4),
)
def test_property_always_parses_and_never_raises(prompt, examples):
    new = with_examples_block(prompt, "below_zero", examples)
    ast.parse(new + BODY)
    if not examples:
        assert new == prompt
    elif "r'''" not in prompt:  # a non-raw docstring can show every repr exactly
        _assert_block(new, "below_zero", examples)


simple = st.recursive(
    st.integers() | st.text(alphabet="abc xyz'\"\\", max_size=6), lambda inner: st.lists(inner, max_size=3), max_leaves=6
)


@settings(max_examples=100, deadline=None)
@given(st.lists(simple, min_size=1, max_size=4, unique_by=repr))
def test_property_simple_values_round_trip(values):
    examples = [((v,), v) for v in values]
    new = with_examples_block(HUMANEVAL, "below_zero", examples)
    parsed = parse_examples(new, "below_zero")
    original = [([1, 2, 3],), ([1, 2, -4, 5],)]
    assert [e.args for e in parsed] == original + [(v,) for v in values if (v,) not in original]
