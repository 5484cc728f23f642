"""Extraction of a candidate module from generator replies: realistic replies, failures, speed."""

from __future__ import annotations

import random
import string
import time
from typing import Any

import pytest

from bench.generation.extract import STATUSES, Extraction, extract_code

PROMPT = '''from typing import List


def add_all(xs: List[int], k: int) -> List[int]:
    """ Add k to every element of xs.
    >>> add_all([1, 2], 3)
    [4, 5]
    """
'''

PALINDROME_PROMPT = '''

def is_palindrome(string: str) -> bool:
    """ Test if given string is a palindrome """
    return string == string[::-1]


def make_palindrome(string: str) -> str:
    """ Find the shortest palindrome that begins with a supplied string.
    >>> make_palindrome('cat')
    'catac'
    """
'''

GOOD = "def add_all(xs, k):\n    return [x + k for x in xs]\n"
DRAFT = "def add_all(xs, k):\n    return xs\n"


def run(code: str | None, name: str, *args: Any) -> Any:
    """Execute an extracted module in a fresh namespace and call ``name(*args)``."""
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(compile(code, "<extracted>", "exec"), namespace)
    return namespace[name](*args)


def ok(reply: str | None, entry_point: str = "add_all", prompt: str = "") -> Extraction:
    result = extract_code(reply, entry_point, prompt)
    assert result.status == "ok", result
    assert result.code is not None and result.code.endswith("\n")
    return result


# --------------------------------------------------------------------------- finding the code


@pytest.mark.parametrize("reply", [
    pytest.param(f"Sure! Here is the solution:\n\n```python\n{GOOD}```\n\nIt adds k.", id="python-fence"),
    pytest.param(f"Solution:\n```py\n{GOOD}```\nDone.", id="py-fence"),
    pytest.param(f"Solution:\n```\n{GOOD}```\nDone.", id="bare-fence"),
    pytest.param(f"Solution:\n~~~python\n{GOOD}~~~\nDone.", id="tilde-fence"),
    pytest.param("1. Write it:\n\n   ```python\n   " + GOOD.replace("\n", "\n   ") + "```\n", id="indented-fence"),
    pytest.param(f"Install nothing:\n```bash\npip list\n```\nThen:\n```python\n{GOOD}```", id="other-language-first"),
    pytest.param(f"Here:\n```python\n{GOOD}", id="unclosed-fence"),
    pytest.param(f"Here:\n```python\n{GOOD}```Done, hope this helps!", id="sloppy-close"),
    pytest.param(GOOD.replace("\n", "\r\n"), id="crlf"),
])
def test_fenced_and_plain_solutions(reply):
    r = ok(reply)
    assert run(r.code, "add_all", [1, 2], 3) == [4, 5]
    assert "```" not in r.code and "Done" not in r.code and "Sure" not in r.code
    assert r.added_imports == ()


def test_last_version_of_the_function_wins():
    reply = f"First attempt:\n```python\n{DRAFT}```\nWait, that is wrong. Fixed:\n```python\n{GOOD}```\nThat's it."
    assert run(ok(reply).code, "add_all", [1], 1) == [2]
    reply = f"```python\n{GOOD}```\nOr, simpler:\n```python\n{DRAFT}```"
    assert run(ok(reply).code, "add_all", [1], 1) == [1]  # last, even when it is worse


def test_later_block_with_only_tests_is_ignored():
    reply = (f"```python\n{GOOD}```\n\nTests:\n\n```python\nassert add_all([1], 1) == [2]\n"
             "print(add_all([0, 0], 5))\n```\n")
    r = ok(reply)
    assert run(r.code, "add_all", [5], 5) == [10]
    assert "assert" not in r.code and "print" not in r.code


def test_truncated_final_version_falls_back_to_the_draft_and_says_so():
    reply = f"```python\n{GOOD}```\nA faster one:\n```python\ndef add_all(xs, k):\n    return [x + k for x in"
    r = ok(reply)
    assert run(r.code, "add_all", [1], 2) == [3]
    assert "preferred one failed" in r.detail and "SyntaxError" in r.detail


def test_plain_code_without_fences():
    reply = "import math\n\n\ndef add_all(xs, k):\n    return [x + k for x in xs]\n"
    r = ok(reply)
    assert r.code == reply and r.added_imports == ()


def test_function_embedded_in_prose_without_fences():
    reply = ("Let me think about this.\nWe need an operator first.\n"
             "from operator import add as plus\n"
             "OFFSET = 0\n\n"
             "def add_all(xs, k):\n"
             "    out = []\n"
             "    for x in xs:\n"
             "        out.append(plus(x, k) + OFFSET)\n"
             "    return out\n"
             "This runs in O(n) time.\nHope it helps!")
    r = ok(reply)
    assert r.code.startswith("from operator import add as plus\nOFFSET = 0\n")  # taken along, not guessed
    assert "O(n)" not in r.code and "Hope" not in r.code and "think" not in r.code and r.added_imports == ()
    assert run(r.code, "add_all", [1, 2], 10) == [11, 12]


def test_unfenced_function_followed_by_indented_prose():
    reply = "def add_all(xs, k):\n    return [x + k for x in xs]\n  where k is added to every element.\nDone."
    assert run(ok(reply).code, "add_all", [1], 1) == [2]


def test_codellama_python_tags():
    reply = ("[PYTHON]\nSQUARES = {}\nfor i in range(10):\n    SQUARES[i] = i * i\n"
             "def add_all(xs, k):\n    return [SQUARES[x] + k for x in xs]\n[/PYTHON]")
    assert run(ok(reply).code, "add_all", [3], 1) == [10]


def test_markdown_indented_code_block():
    reply = "Solution:\n\n    def add_all(xs, k):\n        return [x + k for x in xs]\n\nThat is all."
    assert run(ok(reply).code, "add_all", [0], 7) == [7]


@pytest.mark.parametrize("reply", [
    pytest.param("    return [x + k for x in xs]\n", id="indented-body"),
    pytest.param("    return [x + k for x in xs]\n\nThis adds k to each element.", id="body-then-prose"),
    pytest.param("```python\n    return [x + k for x in xs]\n```", id="fenced-body"),
    pytest.param("return [x + k for x in xs]", id="unindented-body"),
    pytest.param("    return [helper(x, k) for x in xs]\n\n\ndef helper(x, k):\n    return x + k\n",
                 id="body-and-helper"),
])
def test_body_only_reply_completes_the_prompt(reply):
    r = ok(reply, prompt=PROMPT)
    assert r.code.startswith(PROMPT.rstrip())  # the prompt's imports, signature and docstring
    assert "signature" in r.detail
    assert run(r.code, "add_all", [1, 2], 3) == [4, 5]


def test_body_only_reply_without_prompt_or_with_a_broken_body_does_not_compile():
    r = extract_code("    return [x + k for x in xs]\n", "add_all")
    assert r == Extraction(None, "does_not_compile", "SyntaxError: 'return' outside function (line 1)")
    r = extract_code("    total = k +\n    return total\n", "add_all", PROMPT)
    body_line = len(PROMPT.rstrip().splitlines()) + 1
    assert r.status == "does_not_compile" and f"(line {body_line}) after the prompt's signature" in r.detail


# --------------------------------------------------------------------------- missing names


def test_missing_typing_and_math_imports_are_added_and_the_code_runs():
    reply = ("```python\ndef add_all(xs: List[int], k: Optional[int] = None) -> Dict[int, float]:\n"
             "    return {x: math.sqrt(x) + (k or 0) for x in xs}\n```")
    r = ok(reply)
    assert r.added_imports == ("import math", "from typing import Dict, List, Optional")
    assert r.code.startswith("import math\nfrom typing import Dict, List, Optional\n")
    assert run(r.code, "add_all", [4, 9], 1) == {4: 3.0, 9: 4.0}


def test_well_known_bare_names_and_modules():
    reply = ("```python\ndef most(xs):\n    c = Counter(xs)\n    return heapq.nlargest(1, c, key=c.get)[0] "
             "+ itertools.count().__next__() + len(re.findall('a', 'aa'))\n```")
    r = ok(reply, "most")
    assert set(r.added_imports) == {"import heapq", "import itertools", "import re", "from collections import Counter"}
    assert run(r.code, "most", [3, 3, 1]) == 5


def test_imports_of_the_prompt_are_carried_over():
    prompt = "from string import ascii_lowercase as LETTERS\n\n\ndef shift(s: str) -> str:\n    \"\"\"Doc.\"\"\"\n"
    reply = "```python\ndef shift(s):\n    return ''.join(LETTERS[(LETTERS.index(c) + 1) % 26] for c in s)\n```"
    r = ok(reply, "shift", prompt)
    assert r.added_imports == ("from string import ascii_lowercase as LETTERS",)
    assert run(r.code, "shift", "az") == "ba"


def test_helper_defined_by_the_prompt_is_carried_over():
    reply = ("```python\ndef make_palindrome(string: str) -> str:\n    for i in range(len(string)):\n"
             "        if is_palindrome(string[i:]):\n            return string + string[:i][::-1]\n"
             "    return string\n```")
    r = ok(reply, "make_palindrome", PALINDROME_PROMPT)
    assert "is_palindrome" in r.detail
    assert run(r.code, "make_palindrome", "cat") == "catac"


def test_helper_from_another_block_is_carried_over():
    reply = ("A helper:\n```python\ndef is_even(n):\n    return n % 2 == 0\n```\nThen:\n"
             "```python\ndef evens(xs):\n    return [x for x in xs if is_even(x)]\n```")
    r = ok(reply, "evens")
    assert run(r.code, "evens", [1, 2, 3, 4]) == [2, 4]


def test_bound_names_get_no_import_and_nothing_is_removed():
    code = ("from __future__ import annotations\nimport math as m\n\nList = list\n\n\n"
            "def f(xs: List, math, re=None):\n    '''Doc.'''\n    return [m.floor(x) for x in xs] + [math.x, re]\n")
    r = ok(f"```python\n{code}```", "f")
    assert r.added_imports == () and r.code == code


def test_imports_go_after_future_imports():
    r = ok("```python\nfrom __future__ import annotations\ndef f(xs: List[int]) -> int:\n    return sum(xs)\n```", "f")
    assert r.code.splitlines()[:2] == ["from __future__ import annotations", "from typing import List"]
    assert run(r.code, "f", [1, 2]) == 3


# --------------------------------------------------------------------------- usage stripped


def test_main_block_prints_asserts_and_calls_are_stripped(capsys):
    reply = ("```python\nimport sys\n\nLIMIT = 10\n\n\nclass Box:\n    pass\n\n\n"
             "def _clip(x):\n    return min(x, LIMIT)\n\n\n"
             "def add_all(xs, k):\n    return [_clip(x + k) for x in xs]\n\n\n"
             "print(add_all([1], 2))\n"
             "assert add_all([1], 1) == [99], 'a wrong example must not run'\n"
             "add_all([1], 2)\n"
             "result = add_all([3], 4)\n"
             "for case in ([1], [2]):\n    print(add_all(case, 1))\n"
             "sys.setrecursionlimit(10000)\n"
             "if __name__ == '__main__':\n    print('demo')\n    raise SystemExit(add_all([], 0))\n```")
    r = ok(reply)
    assert "print" not in r.code and "__main__" not in r.code and "assert" not in r.code
    assert "result" not in r.code and "for case" not in r.code
    for kept in ("import sys", "LIMIT = 10", "class Box", "def _clip", "sys.setrecursionlimit(10000)"):
        assert kept in r.code
    assert run(r.code, "add_all", [5, 9], 3) == [8, 10]
    assert capsys.readouterr().out == ""


def test_doctest_session_blocks_are_not_code():
    for session in ("```python\n>>> def add_all(xs, k):\n...     return xs\n>>> add_all([1], 2)\n[1]\n```",
                    "```python\n>>> add_all([1], 'x')\nTraceback (most recent call last):\n  ...\nTypeError: no\n```"):
        assert extract_code(session, "add_all") == Extraction(None, "no_code", "no Python code found in the reply")
    reply = f"```python\n{GOOD}```\nUsage:\n```python\n>>> add_all([1], 2)\n[3]\n```"
    assert run(ok(reply).code, "add_all", [1], 2) == [3]


def test_doctests_inside_a_docstring_are_kept():
    code = ('def add_all(xs, k):\n    """\n    >>> add_all([1], 2)\n    >>> add_all([], 2)\n    >>> add_all([0], 0)\n'
            '    >>> add_all([5], 5)\n    """\n    return [x + k for x in xs]\n')
    assert ok(f"```python\n{code}```").code == code


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("reply,line", [
    ("```python\ndef add_all(xs, k):\n    total = k +\n    return total\n```", 2),
    ("Here:\n```python\nimport math\n\ndef add_all(xs, k):\n    return [x + k for x in xs\n```", 4),
    ("```python\ndef add_all(xs, k):\n    return xs\n  x = 1\n```", 3),
])
def test_syntax_error_does_not_compile_with_its_line(reply, line):
    r = extract_code(reply, "add_all")
    assert r.status == "does_not_compile" and r.code is None
    assert r.detail.startswith(("SyntaxError", "IndentationError")) and f"(line {line})" in r.detail


def test_compile_time_errors_do_not_compile():
    r = extract_code("```python\ndef add_all(xs, xs):\n    return xs\n```", "add_all")
    assert r.status == "does_not_compile" and "duplicate argument" in r.detail


@pytest.mark.parametrize("reply", [
    "```python\ndef add_numbers(xs, k):\n    return xs\n```",
    "Here you go:\ndef add_numbers(xs, k):\n    return xs\nEnjoy.",
    "def add_numbers(xs, k):\n    return xs\n",
    "```python\nclass Solution:\n    def add_all(self, xs, k):\n        return xs\n```",
    "```python\nprint(add_all([1], 2))\n```",
])
def test_no_function_named_entry_point_does_not_compile(reply):
    r = extract_code(reply, "add_all")
    assert r == Extraction(None, "does_not_compile", "no function named 'add_all'")


@pytest.mark.parametrize("reply,detail", [
    (None, "empty reply"),
    ("", "empty reply"),
    ("  \n\t\n", "empty reply"),
    ("I'm sorry, but I can't help with that request.", "no Python code found in the reply"),
    ("Sure", "no Python code found in the reply"),
    ("The answer:\n```\nAdd k to every element of the list.\n```", "no Python code found in the reply"),
    ("Output:\n```text\n[4, 5]\n```", "no Python code found in the reply"),
])
def test_prose_empty_and_none_are_no_code(reply, detail):
    assert extract_code(reply, "add_all", PROMPT) == Extraction(None, "no_code", detail)


@pytest.mark.parametrize("reply", [
    b"def add_all(xs, k): return xs",
    12345,
    "(" * 100_000,
    "```python\ndef add_all(xs, k):\n    return " + "-" * 100_000 + "1\n```",
    "```python\ndef add_all(xs, k):\n    return " + "1+" * 40_000 + "1\n```",
    "```python\ndef add_all(xs, k):\n    return '\x00'\n```",
    "```python\ndef add_all(xs, k):\n    return '\ud800'\n```",
    "```python\ndef add_all(xs, k):\n    return " + "1" * 10_000 + "\n```",
])
def test_hostile_replies_never_raise(reply):
    r = extract_code(reply, "add_all", PROMPT)
    assert r.status in ("no_code", "does_not_compile") and r.code is None and r.detail
    assert "\n" not in r.detail


@pytest.mark.parametrize("reply", [
    "".join(random.Random(0).choice(string.printable) for _ in range(100_000)),
    "```python\n" * 10_000,
    "Here is def add_all(xs):\ndef add_all(xs, k):\n  return (\nblah\n" * 2_500,
    "```python\ndef add_all(xs, k):\n    return x +\n```\n" * 2_500,
    ">>> add_all([1], 2)\n[3]\n" * 5_000,
    "~~~\n" * 25_000,
    "a" * 50_000 + " = " + "(" * 50_000,
])
def test_100kb_replies_are_fast(reply):
    assert len(reply) >= 90_000
    start = time.perf_counter()
    r = extract_code(reply, "add_all", PROMPT)
    # A stall guard, not a speed test: each reply takes under 0.1 s here even under full load, while a
    # super-linear (backtracking, quadratic) path on 100 KB takes minutes; 60 s is a margin no slow machine hits.
    assert time.perf_counter() - start < 60.0
    assert r.status in STATUSES


def test_large_valid_reply_is_extracted():
    helpers = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(3_000))
    r = ok(f"Long one:\n```python\n{helpers}{GOOD}```\nEnd.")
    assert len(r.code) > 90_000 and run(r.code, "add_all", [1], 1) == [2]
