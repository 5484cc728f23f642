"""Tolerant extraction of a candidate module from a generator model's reply.

Generator models answer with prose and code: fenced blocks (often a draft then a final
version, followed by usage examples), bare code, a function embedded in prose, or only
the body that continues the task prompt. :func:`extract_code` turns any reply into a
complete module that defines the entry point, or says why it cannot:

- ``ok``: ``code`` is a module that compiles and defines ``entry_point`` at top level;
  usage examples (``__main__`` blocks, top-level prints, asserts and calls of the entry
  point) are stripped, and missing well-known imports and helpers are added. The last
  fenced version of the function is preferred; if it does not compile (a truncated
  reply), an earlier one is used and ``detail`` says so;
- ``no_code``: the reply holds no code at all (prose, empty, None);
- ``does_not_compile``: the code found does not compile, or defines no function named
  ``entry_point``; ``detail`` says which, with the line of a syntax error.

It is total: it never raises (a candidate text that breaks a step is a recorded failure, and
the next candidate is tried), and its work is bounded. It works line by line (no backtracking
regex over the whole reply), examines only the first ``MAX_REPLY_CHARS`` (200,000) characters
of a reply (``detail`` says when a reply was cut), tries at most ``_MAX_CANDIDATES`` (24)
distinct candidate texts, and hostile code (a huge integer literal, deep nesting, lone
surrogates) is a ``does_not_compile`` with the compiler's reason, never an exception.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = ["MAX_REPLY_CHARS", "STATUSES", "Extraction", "extract_code"]

STATUSES = ("ok", "no_code", "does_not_compile")


@dataclass(frozen=True)
class Extraction:
    """What :func:`extract_code` made of a reply.

    Attributes:
        code: A complete module defining the entry point, or None.
        status: ``"ok"``, ``"no_code"`` or ``"does_not_compile"``.
        detail: One line: why it failed, or what was adjusted when ``"ok"``.
        added_imports: The import lines added at the top of ``code``.
    """

    code: str | None
    status: str
    detail: str = ""
    added_imports: tuple[str, ...] = ()


MAX_REPLY_CHARS = 200_000  # characters of a reply examined; the rest is ignored (and ``detail`` says so)
_MAX_CANDIDATES = 24  # distinct candidate texts tried per reply
_MAX_TRIMS = 3  # shorter retries of an unfenced run that ends in prose
_MAX_ROUNDS = 4  # rounds of adding missing names (helpers may need more names)

_PY_LANGS = frozenset({"", "python", "py", "python3", "py3", "ipython", "ipython3", "python2", "sage"})
_TYPING = frozenset({
    "Any", "AnyStr", "Callable", "ClassVar", "DefaultDict", "Deque", "Dict", "Final", "FrozenSet", "Generator",
    "Hashable", "Iterable", "Iterator", "List", "Literal", "Mapping", "MutableMapping", "MutableSequence",
    "MutableSet", "NamedTuple", "NoReturn", "Optional", "Sequence", "Set", "Tuple", "Type", "TypeVar", "TypedDict",
    "Union", "cast",
})
_FROM_NAMES = {  # bare names that only ever mean one stdlib thing
    "Counter": "collections", "OrderedDict": "collections", "defaultdict": "collections", "deque": "collections",
    "namedtuple": "collections", "cache": "functools", "cmp_to_key": "functools", "lru_cache": "functools",
    "partial": "functools", "reduce": "functools", "accumulate": "itertools", "combinations": "itertools",
    "combinations_with_replacement": "itertools", "groupby": "itertools", "permutations": "itertools",
    "product": "itertools", "zip_longest": "itertools", "heapify": "heapq", "heappop": "heapq", "heappush": "heapq",
    "nlargest": "heapq", "nsmallest": "heapq", "bisect_left": "bisect", "bisect_right": "bisect", "insort": "bisect",
    "ceil": "math", "comb": "math", "factorial": "math", "floor": "math", "gcd": "math", "isqrt": "math",
    "sqrt": "math", "Fraction": "fractions", "Decimal": "decimal",
}
_MODULES = frozenset({  # imported when used as `name.attr` and never bound
    "bisect", "cmath", "collections", "copy", "datetime", "decimal", "fractions", "functools", "hashlib", "heapq",
    "itertools", "json", "math", "operator", "random", "re", "statistics", "string", "sys", "textwrap", "typing",
    "unicodedata",
})
_KNOWN = frozenset(dir(builtins)) | {"__file__", "__builtins__", "__cached__", "__annotations__"}
_BODY_ERRORS = ("'return' outside function", "'yield' outside function", "'await' outside function",
                "unexpected indent")
_USAGE_CALLS = frozenset({"print", "pprint", "input", "check", "main", "demo", "example", "examples", "run_tests"})
_TEST_RUNNERS = frozenset({"doctest", "unittest", "pytest"})

# Matched at the start of one line (``.match``), each linear in the line's length.
_DEF = re.compile(r"[ \t]*(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)[ \t]*\(")
_CODE_START = re.compile(
    r"(?:(?:async[ \t]+)?def|class)[ \t]+\w|import[ \t]+\w|from[ \t]+[\w.]+[ \t]+import\b|@[A-Za-z_]|#"
    r"|if[ \t]+__name__\b|[A-Za-z_]\w*[ \t]*(?::[^=\n]*)?=(?!=)|[)\]}]")
_CODEISH = re.compile(
    r"(?:def|class|import|from|return|for|while|if|elif|else|try|except|with|lambda|print|assert|yield)\b"
    r"|[A-Za-z_][\w.]*[ \t]*[(\[=]")
_PYTHON_TAG_OPEN, _PYTHON_TAG_CLOSE = "[PYTHON]", "[/PYTHON]"  # CodeLlama's fences
_SURROGATE = re.compile("[\ud800-\udfff]")


def extract_code(reply: str | None, entry_point: str, prompt: str = "") -> Extraction:
    """Extract a complete module defining ``entry_point`` from a model reply; never raises.

    Args:
        reply: The model's raw reply (prose and code), or None.
        entry_point: Name of the function the module must define at top level.
        prompt: The task prompt (imports, ``def`` signature, docstring); used to complete a
            body-only reply and to supply imports and helpers the code uses but lacks.

    Returns:
        An :class:`Extraction`; ``code`` is set only when ``status == "ok"``.
    """
    try:
        if not isinstance(reply, str):
            return Extraction(None, "no_code", "empty reply" if reply is None else "reply is not text")
        if not reply.strip():
            return Extraction(None, "no_code", "empty reply")
        result = _Extractor(_normalize(reply[:MAX_REPLY_CHARS]), str(entry_point), _normalize(prompt or "")).run()
        if len(reply) > MAX_REPLY_CHARS:
            note = f"examined only the first {MAX_REPLY_CHARS:,} of {len(reply):,} characters"
            result = Extraction(result.code, result.status, "; ".join(filter(None, [result.detail, note])),
                                result.added_imports)
        return result
    except Exception as exc:  # noqa: BLE001 - the extractor must never raise; say what broke instead
        return Extraction(None, "no_code", _one_line(f"extractor error: {type(exc).__name__}: {exc}"))


# --------------------------------------------------------------------------- helpers on text


def _normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


def _one_line(text: str, limit: int = 300) -> str:
    text = _SURROGATE.sub("\ufffd", " ".join(text.split()))  # details are written to UTF-8 files
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _dedent(lines: Sequence[str]) -> list[str]:
    """Remove the whitespace prefix common to all non-blank lines (blank lines are kept as they are)."""
    prefix: str | None = None
    for ln in lines:
        if ln.strip():
            ws = ln[: _indent(ln)]
            if prefix is None:
                prefix = ws
            else:
                k = 0
                while k < len(prefix) and k < len(ws) and prefix[k] == ws[k]:
                    k += 1
                prefix = prefix[:k]
            if not prefix:
                return list(lines)
    if not prefix:
        return list(lines)
    n = len(prefix)
    return [ln[n:] if ln.startswith(prefix) else ln.lstrip(" \t") for ln in lines]


def _clean(text: str) -> str:
    """Drop leading and trailing blank lines and the common indentation; end with one newline."""
    lines = text.split("\n")
    lo, hi = 0, len(lines)
    while lo < hi and not lines[lo].strip():
        lo += 1
    while hi > lo and not lines[hi - 1].strip():
        hi -= 1
    return "\n".join(_dedent(lines[lo:hi])) + "\n" if hi > lo else ""


def _first_code_line(text: str) -> str:
    for ln in text.split("\n"):
        if ln.strip():
            return ln
    return ""


def _defines_line(text: str, name: str) -> bool:
    """Whether a line of ``text`` starts a ``def name(`` (cheap, textual)."""
    if name not in text:
        return False
    for ln in text.split("\n"):
        m = _DEF.match(ln)
        if m and m.group(1) == name:
            return True
    return False


def _codeish(text: str) -> bool:
    """Whether any line of ``text`` looks like Python rather than prose."""
    return any(_CODEISH.match(ln.lstrip()) for ln in text.split("\n") if ln.strip())


def _is_doctest(text: str) -> bool:
    """Whether ``text`` is mostly an interactive ``>>>`` session (not a module)."""
    rows = [ln.strip() for ln in text.split("\n") if ln.strip()]
    prompts = sum(1 for r in rows if r.startswith(">>>"))
    if not prompts:
        return False
    more = sum(1 for r in rows if r.startswith("..."))
    return (prompts + more) * 2 >= len(rows) and _parse(text) is None


# --------------------------------------------------------------------------- helpers on code


def _parse(src: str) -> ast.Module | None:
    try:
        return ast.parse(src)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None


def _compile(src: str) -> tuple[ast.Module | None, BaseException | None]:
    """Parse and compile ``src`` (compiling catches e.g. ``return`` outside a function)."""
    try:
        tree = ast.parse(src)
        compile(tree, "<candidate>", "exec", dont_inherit=True)
        return tree, None
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return None, exc


def _error(exc: BaseException | None) -> str:
    if isinstance(exc, SyntaxError):
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return _one_line(f"{type(exc).__name__}: {exc.msg}{where}")
    if isinstance(exc, (RecursionError, MemoryError)):
        return f"{type(exc).__name__}: code too deeply nested"
    return _one_line(f"{type(exc).__name__}: {exc}")


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno] + [d.lineno for d in decorators])


def _segment(lines: Sequence[str], node: ast.stmt) -> str:
    return "\n".join(lines[_first_line(node) - 1: (node.end_lineno or node.lineno)])


def _defines_at_top(tree: ast.Module, name: str) -> bool:
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name for n in tree.body)


def _has_code(tree: ast.Module) -> bool:
    """Whether a parsed text is code rather than a word or two that happen to parse."""
    return any(not (isinstance(s, ast.Expr) and isinstance(s.value, (ast.Name, ast.Constant))) for s in tree.body)


def _names(tree: ast.AST) -> tuple[set[str], set[str], set[str], bool]:
    """Approximate name analysis: (loaded, bound anywhere, used as ``x.attr``, has a star import)."""
    loaded: set[str] = set()
    bound: set[str] = set()
    bases: set[str] = set()
    star = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            bases.add(node.value.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    star = True
                else:
                    bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
    return loaded, bound, bases, star


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _calls(node: ast.AST, names: frozenset[str] | set[str]) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names for n in ast.walk(node))


def _is_main_guard(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare) or len(stmt.test.comparators) != 1:
        return False
    sides = [stmt.test.left, stmt.test.comparators[0]]
    return (any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides))


def _is_usage(stmt: ast.stmt, entry_point: str, protected: set[str]) -> bool:
    """Whether a top-level statement only exercises the code (examples, tests) rather than defining it."""
    if _is_main_guard(stmt) or isinstance(stmt, ast.Assert):
        return True
    if isinstance(stmt, ast.Expr):
        if isinstance(stmt.value, ast.Constant):
            return False
        for n in ast.walk(stmt.value):
            if isinstance(n, ast.Call):
                f = n.func
                if isinstance(f, ast.Name) and (f.id in _USAGE_CALLS or f.id.startswith("test")):
                    return True
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in _TEST_RUNNERS:
                    return True
        return _mentions(stmt.value, entry_point)
    if isinstance(stmt, (ast.For, ast.While)):
        return _calls(stmt, {entry_point, "print"})
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        return _calls(stmt.value, {entry_point, "input"}) and not names & protected
    return False


def _strip_usage(src: str, tree: ast.Module, entry_point: str) -> tuple[str, ast.Module]:
    """Remove top-level usage statements, keeping every definition, import and constant."""
    protected: set[str] = set()  # names the definitions use: assignments to them are not usage
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            protected |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    keep: set[int] = set()
    drop: list[tuple[int, int]] = []
    for stmt in tree.body:
        span = (_first_line(stmt), stmt.end_lineno or stmt.lineno)
        if _is_usage(stmt, entry_point, protected):
            drop.append(span)
        else:
            keep.update(range(span[0], span[1] + 1))
    gone = {i for lo, hi in drop if not keep.intersection(range(lo, hi + 1)) for i in range(lo, hi + 1)}
    if not gone:
        return src, tree
    lines = src.split("\n")
    out = "\n".join(ln for i, ln in enumerate(lines, 1) if i not in gone).rstrip() + "\n"
    new = _parse(out)
    return (out, new) if new is not None else (src, tree)


def _insert_at(tree: ast.Module) -> int:
    """Line index after the module docstring and ``from __future__`` imports, where additions go."""
    at = 0
    for i, stmt in enumerate(tree.body):
        is_doc = i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
            and isinstance(stmt.value.value, str)
        if is_doc or (isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"):
            at = stmt.end_lineno or stmt.lineno
        else:
            break
    return at


# --------------------------------------------------------------------------- markdown


@dataclass(frozen=True)
class _Block:
    """A fenced block: its content (fence indentation removed), language and line span in the reply."""

    text: str
    lang: str
    first: int
    last: int


def _fence_open(line: str) -> tuple[str, int, str] | None:
    s = line.strip()
    if s.upper().startswith(_PYTHON_TAG_OPEN):
        return "[", 0, "python"
    if not (s.startswith("```") or s.startswith("~~~")):
        return None
    ch = s[0]
    count = len(s) - len(s.lstrip(ch))
    info = s[count:].strip()
    if ch == "`" and "`" in info:
        return None  # inline code on one line
    lang = info.split()[0].strip("{}.").split(":")[0].lower() if info else ""
    return ch, count, lang


def _fence_close(line: str, ch: str, count: int, loose: bool) -> bool:
    s = line.strip()
    if ch == "[":
        return s.upper().startswith(_PYTHON_TAG_CLOSE)
    if loose:
        return s.startswith(ch * count)
    return len(s) >= count and s == ch * len(s)


def _fenced_blocks(lines: Sequence[str]) -> list[_Block]:
    blocks: list[_Block] = []
    none_after: dict[tuple[str, int, bool], int] = {}  # (fence, loose) -> a line after which no close follows

    def close(start: int, ch: str, count: int, loose: bool) -> int | None:
        key = (ch, count, loose)
        if none_after.get(key, len(lines)) <= start:
            return None  # keeps many unclosed fences linear instead of quadratic
        found = next((j for j in range(start, len(lines)) if _fence_close(lines[j], ch, count, loose)), None)
        if found is None:
            none_after[key] = start
        return found

    i, n = 0, len(lines)
    while i < n:
        opened = _fence_open(lines[i]) if "`" in lines[i] or "~" in lines[i] or "[" in lines[i] else None
        if opened is None:
            i += 1
            continue
        ch, count, lang = opened
        pad = _indent(lines[i])
        end = close(i + 1, ch, count, False)
        if end is None:  # unclosed: accept a sloppy close, else the block runs to the end (a truncated reply)
            end = close(i + 1, ch, count, True)
        if end is None:
            end = n
        body = [ln[min(pad, _indent(ln)):] for ln in lines[i + 1: end]]
        blocks.append(_Block("\n".join(body), lang, i, min(end, n - 1)))
        i = end + 1
    return blocks


def _run(lines: Sequence[str], i: int, extend: bool) -> str:
    """The code around the ``def`` at line ``i`` of unfenced text, up to the first prose line.

    With ``extend``, the run also takes the imports, decorators, helpers and constants
    written at the same indentation just before and after the function.
    """
    d = _indent(lines[i])
    end, n = i + 1, len(lines)
    while end < n:
        ln = lines[end]
        if ln.strip():
            ind = _indent(ln)
            s = ln.lstrip()
            if ind < d or (ind == d and s[0] not in ")]}" and not (extend and _CODE_START.match(s))):
                break
        end += 1
    start = i
    if extend:
        k = i - 1
        while k >= 0:
            ln = lines[k]
            if ln.strip():
                ind = _indent(ln)
                if ind < d or (ind == d and not _CODE_START.match(ln.lstrip())):
                    break
                if ind == d:
                    start = k
            k -= 1
    return _clean("\n".join(lines[start:end]))


# --------------------------------------------------------------------------- the prompt


class _Prompt:
    """What the task prompt offers: its text to complete a body, its imports and helpers."""

    def __init__(self, text: str, entry_point: str) -> None:
        self.text = text
        self.has_entry = _defines_line(text, entry_point)
        self.body_indent = " " * 4
        self.imports: dict[str, tuple[str, str]] = {}  # bound name -> (module or "", imported name or line)
        self.helpers: dict[str, str] = {}  # top-level def/class/constant name -> its source
        tree = _parse(text) or _parse(text.rstrip() + "\n" + " " * 4 + "pass\n")
        if tree is None:  # keep what can be had line by line
            tree = _parse("\n".join(ln for ln in text.split("\n") if ln.startswith(("import ", "from "))))
        if tree is None:
            return
        lines = text.split("\n")
        for stmt in tree.body:
            if isinstance(stmt, ast.Import):
                for a in stmt.names:
                    line = f"import {a.name}" + (f" as {a.asname}" if a.asname else "")
                    self.imports[a.asname or a.name.split(".")[0]] = ("", line)
            elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
                for a in stmt.names:
                    if a.name != "*":
                        alias = a.name + (f" as {a.asname}" if a.asname else "")
                        self.imports[a.asname or a.name] = (stmt.module, alias)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == entry_point:
                if stmt.body and stmt.body[0].col_offset > stmt.col_offset:
                    self.body_indent = lines[stmt.body[0].lineno - 1][: stmt.body[0].col_offset]
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.helpers[stmt.name] = _segment(lines, stmt)
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                self.helpers[stmt.targets[0].id] = _segment(lines, stmt)

    def complete(self, body: str) -> str:
        """The prompt followed by ``body``, re-indented as the prompt function's body.

        Lines after the body that start at column 0 (helpers) are kept at column 0.
        """
        lines = body.split("\n")
        while lines and not lines[0].strip():
            lines.pop(0)
        split = len(lines)
        if lines and _indent(lines[0]):
            split = next((j for j, ln in enumerate(lines) if ln.strip() and not _indent(ln)), len(lines))
        inner = [self.body_indent + ln if ln.strip() else ln for ln in _dedent(lines[:split])]
        return "\n".join([self.text.rstrip(), *inner, *lines[split:]]).rstrip() + "\n"


# --------------------------------------------------------------------------- the extractor


@dataclass(frozen=True)
class _Candidate:
    """A text that may be the answer, and how to treat it."""

    text: str
    report: bool  # a failure of this candidate is worth reporting (it is meant as code)
    body_ok: bool = False  # may be the body continuing the prompt's signature
    trim: bool = False  # may end in prose: on a syntax error, retry without the offending tail


class _Extractor:
    """Tries candidate texts from best to worst; the first that makes a valid module wins."""

    def __init__(self, reply: str, entry_point: str, prompt: str) -> None:
        self.reply = reply
        self.entry = entry_point
        self.prompt = _Prompt(prompt, entry_point) if prompt.strip() else None
        self.lines = reply.split("\n")
        self.blocks = _fenced_blocks(self.lines)
        self.usable = [b for b in self.blocks
                       if (b.lang in _PY_LANGS or _defines_line(b.text, entry_point)) and not _is_doctest(b.text)]
        self._outside: list[str] | None = None
        self._pool: list[tuple[ast.Module, list[str]]] | None = None

    def run(self) -> Extraction:
        seen: set[str] = set()
        first_failure: Extraction | None = None
        for n, cand in enumerate(self._candidates()):
            if n >= 4 * _MAX_CANDIDATES:
                break
            if not cand.text.strip() or cand.text in seen:
                continue
            seen.add(cand.text)
            if len(seen) > _MAX_CANDIDATES:
                break
            try:
                result = self._try(cand)
            except Exception as exc:  # noqa: BLE001 - one broken candidate must not hide the others
                result = Extraction(None, "does_not_compile", _one_line(f"extractor error: {type(exc).__name__}: {exc}"))
            if result.status == "ok":
                if first_failure is not None:
                    note = f"used a fallback candidate; the preferred one failed ({first_failure.detail})"
                    result = Extraction(result.code, "ok", "; ".join(filter(None, [result.detail, note])),
                                        result.added_imports)
                return result
            if first_failure is None and cand.report:
                first_failure = result
        return first_failure or Extraction(None, "no_code", "no Python code found in the reply")

    # ---- candidates, best first

    def outside(self) -> list[str]:
        """The reply's lines with every fenced block blanked out."""
        if self._outside is None:
            out = list(self.lines)
            for b in self.blocks:
                out[b.first: b.last + 1] = [""] * (b.last + 1 - b.first)
            self._outside = out
        return self._outside

    def _candidates(self) -> Iterator[_Candidate]:
        defining = [b for b in self.usable if _defines_line(b.text, self.entry)]
        for b in reversed(defining):  # the last version of the function is the answer
            yield _Candidate(b.text, report=True)
        if not self.blocks:
            whole = _parse(self.reply)
            if whole is not None and _has_code(whole):  # the reply is code: nothing to carve out
                yield _Candidate(self.reply, report=True, body_ok=True)
                return
        outside = self.outside()
        defs = [(i, m.group(1)) for i, ln in enumerate(outside) if "def" in ln and (m := _DEF.match(ln))]
        for i, _ in reversed([d for d in defs if d[1] == self.entry]):
            yield _Candidate(_run(outside, i, extend=True), report=True, trim=True)
            yield _Candidate(_run(outside, i, extend=False), report=True, trim=True)
        if not self.blocks and _indent(_first_code_line(self.reply)):  # a body continuing the prompt
            body = self._leading_code()
            yield _Candidate(body, report=_codeish(body), body_ok=True)
        chosen = {id(b) for b in defining}
        for b in reversed([b for b in self.usable if id(b) not in chosen]):  # tests, drafts, bodies
            yield _Candidate(b.text, report=_codeish(b.text), body_ok=True)
        for i, _ in reversed([d for d in defs if d[1] != self.entry]):  # a function under another name
            yield _Candidate(_run(outside, i, extend=True), report=True, trim=True)

    def _leading_code(self) -> str:
        """The reply's leading lines up to the first prose line at column 0 (for a body-only reply)."""
        out: list[str] = []
        for ln in self.lines:
            if ln.strip() and not _indent(ln) and not _CODE_START.match(ln):
                break
            out.append(ln)
        return "\n".join(out)

    # ---- one candidate

    def _try(self, cand: _Candidate) -> Extraction:
        src = _clean(cand.text)
        tree, exc = _compile(src)
        if tree is None and cand.trim:  # an unfenced run may end in prose: retry without the offending tail
            shorter, err = src, exc
            for _ in range(_MAX_TRIMS):
                if not isinstance(err, SyntaxError) or not err.lineno or err.lineno < 3:
                    break
                shorter = _clean("\n".join(shorter.split("\n")[: err.lineno - 1]))
                if "def" not in shorter:
                    break
                short_tree, err = _compile(shorter)
                if short_tree is not None:
                    src, tree = shorter, short_tree
                    break
        notes: list[str] = []
        looks_like_body = bool(_indent(_first_code_line(cand.text))) or (
            isinstance(exc, SyntaxError) and exc.msg in _BODY_ERRORS)
        if (tree is None and cand.body_ok and looks_like_body and self.prompt is not None and self.prompt.has_entry
                and not _defines_line(cand.text, self.entry)):
            completed = self.prompt.complete(cand.text)
            tree, exc2 = _compile(completed)
            if tree is None:  # the body itself is broken: report its error, with lines of the completed module
                return Extraction(None, "does_not_compile", f"{_error(exc2)} after the prompt's signature")
            src = completed
            notes.append("completed the prompt's signature with a body-only reply")
        if tree is None:
            return Extraction(None, "does_not_compile", _error(exc))
        src, tree = _strip_usage(src, tree, self.entry)
        if not _defines_at_top(tree, self.entry):
            return Extraction(None, "does_not_compile", f"no function named '{self.entry}'")
        code, added, more = self._complete_names(src, tree)
        return Extraction(code, "ok", "; ".join(notes + more), added)

    # ---- missing names

    def _pool_trees(self) -> list[tuple[ast.Module, list[str]]]:
        """Parsed code elsewhere in the reply (other blocks, unfenced functions) that may hold helpers."""
        if self._pool is None:
            texts = [b.text for b in self.usable]
            outside = self.outside()
            starts = [i for i, ln in enumerate(outside) if "def" in ln and _DEF.match(ln)]
            texts += [_run(outside, i, extend=False) for i in starts[-64:]]
            self._pool = []
            for text in texts[-64:]:
                src = _clean(text)
                tree = _parse(src)
                if tree is not None:
                    self._pool.append((tree, src.split("\n")))
        return self._pool

    def _helper_from_reply(self, name: str) -> str | None:
        for tree, lines in reversed(self._pool_trees()):
            for stmt in tree.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and stmt.name == name:
                    return _segment(lines, stmt)
        return None

    def _complete_names(self, src: str, tree: ast.Module) -> tuple[str, tuple[str, ...], list[str]]:
        """Add the imports and helpers that ``src`` uses but never binds; never removes anything."""
        plain: set[str] = set()
        froms: dict[str, set[str]] = {}
        helpers: list[str] = []
        notes: list[str] = []
        tried: set[str] = set()
        at = _insert_at(tree)
        lines = src.split("\n")
        code, current = src, tree
        for _ in range(_MAX_ROUNDS):
            loaded, bound, bases, star = _names(current)
            if star:
                break
            missing = sorted(loaded - bound - _KNOWN - tried)
            if not missing:
                break
            before = (len(plain), sum(map(len, froms.values())), len(helpers))
            for name in missing:
                tried.add(name)
                if name == self.entry:
                    continue
                helper = self._helper_from_reply(name)
                if helper is not None:
                    helpers.append(helper)
                    notes.append(f"added helper '{name}' from elsewhere in the reply")
                elif self.prompt is not None and name in self.prompt.helpers:
                    helpers.append(self.prompt.helpers[name])
                    notes.append(f"added helper '{name}' from the prompt")
                elif self.prompt is not None and name in self.prompt.imports:
                    module, what = self.prompt.imports[name]
                    if module:
                        froms.setdefault(module, set()).add(what)
                    else:
                        plain.add(what)
                elif name in _TYPING:
                    froms.setdefault("typing", set()).add(name)
                elif name in _FROM_NAMES:
                    froms.setdefault(_FROM_NAMES[name], set()).add(name)
                elif name in _MODULES and name in bases:
                    plain.add(f"import {name}")
            if (len(plain), sum(map(len, froms.values())), len(helpers)) == before:
                break
            block = _import_lines(plain, froms)
            for h in helpers:
                block += ["", h] if block else [h]
            code = "\n".join(lines[:at] + block + ["", ""] + lines[at:]).rstrip() + "\n"
            parsed = _parse(code)
            if parsed is None:
                return src, (), []
            current = parsed
        if code == src:
            return src, (), []
        if _compile(code)[0] is None:
            return src, (), []
        return code, tuple(_import_lines(plain, froms)), notes


def _import_lines(plain: set[str], froms: dict[str, set[str]]) -> list[str]:
    """``import x`` lines, then one ``from m import a, b`` line per module; both sorted."""
    return sorted(plain) + [f"from {m} import {', '.join(sorted(names))}" for m, names in sorted(froms.items())]

