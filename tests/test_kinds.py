"""Task kinds: how candidate code becomes a job (functions with materialised results, stdin/stdout programs)."""

from __future__ import annotations

import pytest

from harness.codec import Opaque
from harness.jobs import CallJob
from tasks.augment import TRACE_WRAPPER
from tasks.kinds import PROGRAM_ENTRY, call_job, executable, normalise_stdout, opaque_part, traced_code
from tasks.labels import judge


def _run(sb, kind, code, entry, inputs):
    return sb.run_calls([call_job(kind, code, entry, inputs)])[0]


def test_lazy_results_are_materialised_as_lists(local_sandbox):
    gen = "def f(n):\n    for i in range(n):\n        yield i * i\n"
    [a, b] = _run(local_sandbox, "function", gen, "f", [(3,), (0,)])
    assert (a.status, a.decoded, b.decoded) == ("ok", [0, 1, 4], [])
    [m] = _run(local_sandbox, "function", "def f(n):\n    return map(str, range(n))\n", "f", [(2,)])
    assert m.decoded == ["0", "1"]
    [d] = _run(local_sandbox, "function", "def f(n):\n    return {'k': {1: 2}.keys(), 'z': zip([1], [2])}\n", "f", [(2,)])
    assert d.decoded == {"k": [1], "z": [(1, 2)]}
    [inf] = _run(local_sandbox, "function", "import itertools\ndef f(n):\n    return itertools.count()\n", "f", [(1,)])
    assert inf.status == "error" and "more than 10000 items" in inf.error["message"]
    [obj] = _run(local_sandbox, "function", "class A:\n    pass\ndef f(n):\n    return A()\n", "f", [(1,)])
    assert obj.status == "ok" and isinstance(opaque_part(obj.decoded), Opaque) and "0x" in obj.decoded.text


def test_missing_entry_point_is_a_load_error(local_sandbox):
    [r] = _run(local_sandbox, "function", "def g(n):\n    return n\n", "f", [(1,)])
    assert r.status == "error" and r.error["type"] == "NameError" and "'f' is not defined" in r.error["message"]


def test_programs_read_stdin_and_write_stdout(local_sandbox):
    code = ("import sys\nn = int(input())\nprint(*range(n))\nrest = sys.stdin.read()\nsys.stdout.write(rest.upper())\n"
            "print(__name__)\n")
    [ok, bad] = _run(local_sandbox, "program", code, "p", [("3\nab\n",), ("x",)])
    assert ok.status == "ok" and ok.decoded == "0 1 2\nAB\n__main__\n"
    assert bad.status == "error" and bad.error["type"] == "ValueError"
    [z, nz, syntax] = [_run(local_sandbox, "program", c, "p", [("",)])[0] for c in
                       ("import sys\nprint('hi')\nsys.exit(0)\n", "import sys\nprint('hi')\nsys.exit(2)\n", "def (")]
    assert (z.status, z.decoded) == ("ok", "hi\n")
    assert nz.status == "error" and nz.error["type"] == "SystemExit"
    assert syntax.status == "error" and syntax.error["type"] == "SyntaxError"
    [buf] = _run(local_sandbox, "program", "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])\n", "p",
                 [("abc",)])
    assert buf.decoded == "cba"
    # Each input runs the program afresh: nothing leaks from one stdin to the next.
    [one, two] = _run(local_sandbox, "program", "import sys\nseen = globals().setdefault('seen', [])\nseen.append(1)\n"
                                                "print(len(seen), input())\n", "p", [("a",), ("b",)])
    assert (one.decoded, two.decoded) == ("1 a\n", "1 b\n")


def test_a_program_job_runs_the_wrapper_never_shows_it():
    code, entry = executable("program", "print(1)\n", "p")
    assert entry == PROGRAM_ENTRY and "__obench_source__ = 'print(1)\\n'" in code
    fcode, fentry = executable("function", "def f(x):\n    return x\n", "f")
    assert fcode.startswith("def f(x):\n    return x\n") and fentry == "__obench_call__"
    with pytest.raises(ValueError, match="kinds: function, program"):
        executable("script", "x", "f")


def test_stdout_is_compared_after_whitespace_normalisation(local_sandbox):
    assert normalise_stdout("  6   3 \r\n\n") == "6 3" == normalise_stdout("6 3")
    assert normalise_stdout("1\n2\n") != normalise_stdout("1 2\n")
    [r] = _run(local_sandbox, "program", "print('6', ' 3 ')\nprint()\n", "p", [("",)])
    from tasks.kinds import output_canon

    assert judge([r], [(("",), "6 3")], canon=output_canon("program")).label == "correct"
    assert judge([r], [(("",), "6 4")], canon=output_canon("program")).label == "buggy"


def test_traced_runs_trace_the_candidate_only(local_sandbox):
    gen = "def f(n):\n    for i in range(n):\n        yield i\n"
    job = CallJob.create(traced_code("function", gen, "f", TRACE_WRAPPER), "__obench_traced__", [(2,)])
    out, arcs = local_sandbox.run_calls([job])[0][0].decoded
    assert out == [0, 1] and arcs and all(a[0] == "f" for a in arcs)  # the generator body, not the wrapper
    prog = "n = int(input())\nif n > 1:\n    print('big')\nelse:\n    print('small')\n"
    pjob = CallJob.create(traced_code("program", prog, "p", TRACE_WRAPPER), "__obench_traced__", [("5",)])
    pout, parcs = local_sandbox.run_calls([pjob])[0][0].decoded
    assert pout == "big\n" and {a[2] for a in parcs} == {1, 2, 3}
