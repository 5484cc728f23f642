"""Task kinds, and how a task's candidate code becomes a sandbox job. The one place that decides it.

Two kinds of task:

``function``
    The candidate defines ``entry_point``; a test calls it on an argument tuple and compares
    the return value with the reference's. The call goes through a small trusted wrapper
    (compiled under the file name ``<obench>``) that *materialises* lazy results: a
    generator, any other iterator, a ``range`` or a dict view becomes a list (at most
    :data:`MAX_ITEMS` items; a longer one is an error), also one level down inside a
    list, tuple or dict. So a generator is compared by what it yields, never by its
    ``repr`` (which holds a memory address).

``program``
    The candidate is a program that reads stdin and writes stdout (the APPS /
    competitive-programming form). A test's input is a 1-tuple ``(stdin_text,)``, its
    expected output the stdout text. A trusted entry function (:data:`PROGRAM_ENTRY`)
    runs the program source with ``sys.stdin`` / ``sys.stdout`` replaced by in-memory
    streams and ``__name__ == "__main__"``, and returns what it printed. ``SystemExit``
    with status 0 (or none) is a normal end; any other exit status or exception is an
    error, as for a function. The comparison happens on the host after
    :func:`normalise_stdout`. Reviewers are shown the program, never the wrapper.

Every job made from candidate (or reference) code goes through :func:`call_job` /
:func:`task_job`: the build, ``tasks check``, the labelling rule's :func:`tasks.labels.task_case`,
witness verification and the ``exec`` protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from harness.jobs import CallJob, Limits

TaskKind = Literal["function", "program"]
KINDS: tuple[str, ...] = ("function", "program")
FUNCTION: TaskKind = "function"
PROGRAM: TaskKind = "program"

#: The trusted entry function of a function task's job (calls the entry point, materialises).
CALL_ENTRY = "__obench_call__"
#: The trusted entry function of a program task's job: ``__obench_program__(stdin_text) -> stdout_text``.
PROGRAM_ENTRY = "__obench_program__"
#: The most items a lazy result (generator, iterator, range, view) is materialised to.
MAX_ITEMS = 10_000

_MATERIALISE = '''
def __obench_materialise__(value, depth=0):
    import collections.abc
    import itertools
    if isinstance(value, collections.abc.Iterator) or type(value) in (
            range, type({}.keys()), type({}.values()), type({}.items())):
        items = list(itertools.islice(value, MAX_ITEMS + 1))
        if len(items) > MAX_ITEMS:
            raise ValueError("the result is an iterator with more than MAX_ITEMS items; "
                             "results are compared as data (materialised to a list of at most MAX_ITEMS)")
        value = items
    if depth == 0:
        t = type(value)
        if t is list:
            return [__obench_materialise__(v, 1) for v in value]
        if t is tuple:
            return tuple(__obench_materialise__(v, 1) for v in value)
        if t is dict:
            return {k: __obench_materialise__(v, 1) for k, v in value.items()}
    return value
'''.replace("MAX_ITEMS", str(MAX_ITEMS))

_CALL = _MATERIALISE + '''
if __obench_entry__ not in globals():
    raise NameError("entry point " + repr(__obench_entry__) + " is not defined by the candidate")
if not callable(globals()[__obench_entry__]):
    raise TypeError("entry point " + repr(__obench_entry__) + " is not callable")


def __obench_call__(*args):
    return __obench_materialise__(globals()[__obench_entry__](*args))
'''

_PROGRAM = '''
__obench_code__ = compile(__obench_source__, "<candidate>", "exec")


def __obench_program__(stdin):
    import builtins
    import io
    import sys
    if not isinstance(stdin, str):
        raise TypeError("a program's input is its stdin text (a str), got " + type(stdin).__name__)
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", newline="\\n", write_through=True)
    inp = io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8")), encoding="utf-8")
    saved = sys.stdin, sys.stdout
    sys.stdin, sys.stdout = inp, out
    try:
        exec(__obench_code__, {"__name__": "__main__", "__builtins__": builtins})
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise
    finally:
        try:
            out.flush()
        except Exception:
            pass
        sys.stdin, sys.stdout = saved
    return raw.getvalue().decode("utf-8", "replace")
'''


def _trusted(source: str) -> str:
    """Module text that runs ``source`` compiled as ``<obench>`` (so it is never traced as candidate code)."""
    return f"\n\nexec(compile({source!r}, '<obench>', 'exec'))\n"


def check_kind(kind: str) -> TaskKind:
    """``kind`` if it is a known task kind; otherwise a ValueError naming the known ones."""
    if kind not in KINDS:
        raise ValueError(f"unknown task kind {kind!r}; kinds: {', '.join(KINDS)}")
    return kind  # type: ignore[return-value]


def executable(kind: str, code: str, entry_point: str) -> tuple[str, str]:
    """The ``(job code, job entry point)`` that runs ``code`` as a candidate of a task of ``kind``."""
    if check_kind(kind) == PROGRAM:
        return f"__obench_source__ = {code!r}\n" + _trusted(_PROGRAM), PROGRAM_ENTRY
    return code + f"\n\n__obench_entry__ = {entry_point!r}" + _trusted(_CALL), CALL_ENTRY


def call_job(kind: str, code: str, entry_point: str, inputs: Iterable[Sequence[Any]],
             limits: Limits | None = None) -> CallJob:
    """The sandbox job that runs candidate ``code`` of a ``kind`` task on ``inputs`` (argument tuples;
    for programs ``(stdin_text,)``). The one way candidate code becomes a job."""
    job_code, entry = executable(kind, code, entry_point)
    return CallJob.create(job_code, entry, inputs, limits=limits)


def task_job(task: Any, code: str, inputs: Iterable[Sequence[Any]], limits: Limits | None = None) -> CallJob:
    """:func:`call_job` for a suite task (a :class:`tasks.suite.TaskRecord`: its ``kind`` and ``entry_point``)."""
    return call_job(getattr(task, "kind", FUNCTION), code, task.entry_point, inputs, limits)


def traced_code(kind: str, code: str, entry_point: str, tracer: str) -> str:
    """Job code for a traced reference run: ``tracer`` (text defining ``__obench_traced__``, calling
    ``{entry}``) gets the kind's entry function, with lazy results materialised under the trace."""
    if check_kind(kind) == PROGRAM:
        return f"__obench_source__ = {code!r}\n" + _trusted(_PROGRAM) + tracer.replace("{entry}", PROGRAM_ENTRY)
    return (code + "\n" + _trusted(_MATERIALISE)
            + tracer.replace("{entry}(*__args)", "__obench_materialise__({entry}(*__args))").replace("{entry}", entry_point))


def normalise_stdout(text: Any) -> Any:
    """Whitespace-normalised program output: runs of spaces / tabs inside a line count as one space,
    leading and trailing whitespace of each line and blank lines at the start and end are ignored;
    line breaks between non-blank lines matter. Non-strings are returned unchanged."""
    if not isinstance(text, str):
        return text
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def output_canon(kind: str) -> Any:
    """The canonical form both outputs are put in before they are compared (programs: normalised stdout)."""
    return normalise_stdout if kind == PROGRAM else None


def opaque_part(value: Any, _depth: int = 0) -> Any:
    """The first :class:`harness.codec.Opaque` inside a decoded value (a result with no data
    representation, shown only by its ``repr``), or None. Such a value is never recorded as an
    expected output, nor used as an input."""
    from harness.codec import Opaque

    if isinstance(value, Opaque):
        return value
    if _depth > 100:
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            found = opaque_part(v, _depth + 1)
            if found is not None:
                return found
    elif isinstance(value, dict):
        for k, v in value.items():
            found = opaque_part(k, _depth + 1)
            if found is None:
                found = opaque_part(v, _depth + 1)
            if found is not None:
                return found
    return None


CPU_ENTRY = "__obench_cpu__"
_CPU = '''
def __obench_cpu__(*args):
    import time
    t0 = time.process_time()
    ENTRY(*args)
    return time.process_time() - t0
'''


def cpu_timed_job(kind: str, code: str, entry_point: str, inputs: Iterable[Sequence[Any]],
                  limits: Limits | None = None) -> CallJob:
    """A job whose result per input is the CPU seconds one call of trusted ``code`` takes (a time that
    other processes on the machine hardly change; used to calibrate time limits on references only)."""
    job_code, entry = executable(kind, code, entry_point)
    return CallJob.create(job_code + _trusted(_CPU.replace("ENTRY", entry)), CPU_ENTRY, inputs, limits=limits)
