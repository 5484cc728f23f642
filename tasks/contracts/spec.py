"""The contract language of task files: argument types as data, and an optional sandbox predicate.

A contract spec is a JSON object::

    {
      "args": [ARG, ...]  or  {"name": ARG, ...},   # one per positional parameter, in order
      "predicate": "def valid(xs, k):\\n    return k <= len(xs)\\n",  # optional, runs IN THE SANDBOX
      "unordered_output": false,                     # optional: the output's order does not matter
      "note": "what the docstring allows"            # optional: shown to reviewers
    }

``ARG`` is a type string, or an object ``{"type": TYPE, ...constraints}``. Types::

    int  float  bool  str  list[T]  tuple[T1, T2, ...]  dict[K, V]  optional[T]

(``float`` also accepts ints, as Python does; ``int`` never accepts ``bool``.) Constraints:

=================  ===========================  ================================================
key                applies to                   meaning
=================  ===========================  ================================================
``min``, ``max``   int, float                   inclusive range
``one_of``         int, float, str, bool        the value is one of these
``min_len``,       str, list, dict              inclusive length range
``max_len``
``chars``          str                          allowed characters (a string of them)
``charset``        str                          named classes, one or a list: ``lowercase``,
                                                ``uppercase``, ``letters``, ``digits``, ``alnum``,
                                                ``space``, ``punctuation``, ``printable``
``sorted``         list                         ``true`` / ``"asc"`` or ``"desc"`` (non-strict)
``unique``         list                         items are distinct
``items``          list: one ARG object;        constraints of the items (``"type"`` may be left
                   tuple: a list of them        out when the type string names it)
``keys``,          dict                         constraints of keys / values
``values``
``name``           any                          documentation (set from an ``args`` mapping)
=================  ===========================  ================================================

Constraints on ``optional[T]`` apply to ``T``. A typed spec compiles to a host-side checker (pure
data checks, safe on the host), a seeded generator of valid inputs and a list of boundary inputs
(ends of ranges, empty / single-element / all-equal / sorted / reverse-sorted containers, first and
last characters of the alphabet). A ``predicate`` is Python source defining ``valid(*args) -> bool``;
it is never run on the host: :mod:`tasks.contracts` runs it as a sandbox job.

:func:`parse_contract` never raises anything but :class:`ContractSpecError` (with every problem,
each naming its place, e.g. ``args[1].items: unknown key 'maxlen'``), whatever JSON it is given.
"""

from __future__ import annotations

import ast
import math
import random
import string
from dataclasses import dataclass, field
from typing import Any

BASE_TYPES = ("int", "float", "bool", "str")
COMPOUND_TYPES = ("list", "tuple", "dict", "optional")
CHARSETS: dict[str, str] = {
    "lowercase": string.ascii_lowercase,
    "uppercase": string.ascii_uppercase,
    "letters": string.ascii_letters,
    "digits": string.digits,
    "alnum": string.ascii_letters + string.digits,
    "space": " ",
    "punctuation": string.punctuation,
    "printable": "".join(c for c in string.printable if c not in "\t\n\r\x0b\x0c"),
}
TOP_KEYS = ("args", "predicate", "unordered_output", "note")
_KEYS: dict[str, frozenset[str]] = {
    "int": frozenset({"type", "name", "min", "max", "one_of"}),
    "float": frozenset({"type", "name", "min", "max", "one_of"}),
    "bool": frozenset({"type", "name", "one_of"}),
    "str": frozenset({"type", "name", "min_len", "max_len", "chars", "charset", "one_of"}),
    "list": frozenset({"type", "name", "min_len", "max_len", "items", "sorted", "unique"}),
    "tuple": frozenset({"type", "name", "items"}),
    "dict": frozenset({"type", "name", "min_len", "max_len", "keys", "values"}),
}
#: Generation defaults where a spec leaves a bound open (checking never assumes them).
GEN_INT = (-20, 20)
GEN_FLOAT = (-100.0, 100.0)
GEN_LEN = 8
MAX_DEPTH = 8
MAX_SPEC_CHARS = 100_000


class ContractSpecError(ValueError):
    """A contract spec that cannot be used; ``problems`` lists each one with its place."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class TypeSpec:
    """One compiled argument type with its constraints."""

    kind: str
    lo: float | None = None
    hi: float | None = None
    min_len: int = 0
    max_len: int | None = None
    chars: str | None = None  # allowed alphabet, sorted, or None for any character
    one_of: tuple[Any, ...] | None = None
    sorted: str | None = None  # "asc" | "desc"
    unique: bool = False
    items: tuple[TypeSpec, ...] = ()  # list: (item,), tuple: per position, dict: (key, value), optional: (inner,)
    name: str = ""

    # ------------------------------------------------------------ checking (host-safe: pure data checks)
    def violation(self, v: Any, where: str = "") -> str | None:
        """Why ``v`` is not a valid value of this type (None when it is)."""
        at = where or self.name or "value"
        k = self.kind
        if k == "optional":
            return None if v is None else self.items[0].violation(v, at)
        if k == "int":
            if type(v) is not int:
                return f"{at}: expected an int, got {_tname(v)}"
        elif k == "float":
            if type(v) not in (int, float) or (type(v) is float and not math.isfinite(v)):
                return f"{at}: expected a finite float, got {_tname(v)}"
        elif k == "bool":
            if type(v) is not bool:
                return f"{at}: expected a bool, got {_tname(v)}"
        elif k == "str":
            if type(v) is not str:
                return f"{at}: expected a str, got {_tname(v)}"
        elif k == "list":
            if type(v) is not list:
                return f"{at}: expected a list, got {_tname(v)}"
        elif k == "tuple":
            if type(v) is not tuple:
                return f"{at}: expected a tuple, got {_tname(v)}"
            if len(v) != len(self.items):
                return f"{at}: expected a tuple of {len(self.items)} items, got {len(v)}"
        elif k == "dict":
            if type(v) is not dict:
                return f"{at}: expected a dict, got {_tname(v)}"
        if self.one_of is not None and not any(type(v) is type(x) and v == x for x in self.one_of):
            return f"{at}: {v!r} is not one of {list(self.one_of)!r}"
        if k in ("int", "float"):
            if self.lo is not None and v < self.lo:
                return f"{at}: {v!r} is below the minimum {self.lo!r}"
            if self.hi is not None and v > self.hi:
                return f"{at}: {v!r} is above the maximum {self.hi!r}"
        if k in ("str", "list", "dict"):
            if len(v) < self.min_len:
                return f"{at}: length {len(v)} is below the minimum {self.min_len}"
            if self.max_len is not None and len(v) > self.max_len:
                return f"{at}: length {len(v)} is above the maximum {self.max_len}"
        if k == "str" and self.chars is not None:
            bad = sorted(set(v) - set(self.chars))
            if bad:
                return f"{at}: character {bad[0]!r} is not allowed (allowed: {_short(self.chars)})"
        if k == "list":
            for i, x in enumerate(v):
                why = self.items[0].violation(x, f"{at}[{i}]")
                if why:
                    return why
            if self.unique and any(a == b for i, a in enumerate(v) for b in v[i + 1:]):
                return f"{at}: items are not distinct"
            if self.sorted and len(v) > 1:
                try:
                    ok = all(a <= b for a, b in zip(v, v[1:])) if self.sorted == "asc" else \
                        all(a >= b for a, b in zip(v, v[1:]))
                except TypeError:
                    ok = False
                if not ok:
                    return f"{at}: not sorted ({'ascending' if self.sorted == 'asc' else 'descending'})"
        if k == "tuple":
            for i, (t, x) in enumerate(zip(self.items, v)):
                why = t.violation(x, f"{at}[{i}]")
                if why:
                    return why
        if k == "dict":
            for key, x in v.items():
                why = self.items[0].violation(key, f"{at} key") or self.items[1].violation(x, f"{at}[{key!r}]")
                if why:
                    return why
        return None

    # ------------------------------------------------------------ generation
    def _alphabet(self) -> str:
        return self.chars if self.chars is not None else string.ascii_lowercase

    def _range(self) -> tuple[float, float]:
        """Where values are drawn: the spec's range, an open end replaced by a default span."""
        dlo, dhi = GEN_INT if self.kind == "int" else GEN_FLOAT
        span = dhi - dlo
        if self.lo is not None and self.hi is not None:
            return self.lo, self.hi
        if self.lo is not None:
            return self.lo, self.lo + span
        if self.hi is not None:
            return self.hi - span, self.hi
        return dlo, dhi

    def _len_range(self) -> tuple[int, int]:
        hi = self.max_len if self.max_len is not None else self.min_len + GEN_LEN
        return self.min_len, max(self.min_len, min(hi, self.min_len + 3 * GEN_LEN))

    def generate(self, rng: random.Random, depth: int = 0) -> Any:
        """A random valid value (raises ValueError when the constraints cannot be met by chance)."""
        k = self.kind
        if self.one_of is not None:
            return rng.choice(self.one_of)
        if k == "optional":
            return None if rng.random() < 0.2 else self.items[0].generate(rng, depth + 1)
        if k == "bool":
            return rng.random() < 0.5
        if k == "int":
            lo, hi = self._range()
            a, b = math.ceil(lo), math.floor(hi)
            if a > b:
                raise ValueError("empty int range")
            if rng.random() < 0.7:  # mostly small magnitudes, clipped to the range
                mid = min(max(0, a), b)
                span = max(1, min(b - a, 10))
                return min(b, max(a, mid + rng.randint(-span, span)))
            return rng.randint(a, b)
        if k == "float":
            lo, hi = self._range()
            x = rng.uniform(lo, hi)
            r = float(round(x, rng.choice([0, 1, 2, 3])))
            return r if lo <= r <= hi else x
        if k == "str":
            a, b = self._len_range()
            alpha = self._alphabet()
            if not alpha:
                if a > 0:
                    raise ValueError("no allowed characters")
                return ""
            n = rng.randint(a, b)
            return "".join(rng.choice(alpha) for _ in range(n))
        if k == "tuple":
            return tuple(t.generate(rng, depth + 1) for t in self.items)
        if k == "list":
            a, b = self._len_range()
            n = rng.randint(a, b) if depth < MAX_DEPTH else a
            items: list[Any] = []
            for _ in range(50 * (n + 1)):
                if len(items) >= n:
                    break
                x = self.items[0].generate(rng, depth + 1)
                if self.unique and any(x == y for y in items):
                    continue
                items.append(x)
            if len(items) < a:
                raise ValueError("cannot draw enough distinct items")
            if self.sorted:
                items.sort(reverse=self.sorted == "desc")
            return items
        if k == "dict":
            a, b = self._len_range()
            n = rng.randint(a, b) if depth < MAX_DEPTH else a
            out: dict[Any, Any] = {}
            for _ in range(50 * (n + 1)):
                if len(out) >= n:
                    break
                key = self.items[0].generate(rng, depth + 1)
                try:
                    out[key] = self.items[1].generate(rng, depth + 1)
                except TypeError:  # unhashable key type
                    raise ValueError("dict keys must be hashable") from None
            if len(out) < a:
                raise ValueError("cannot draw enough distinct keys")
            return out
        raise ValueError(f"unknown kind {k}")

    def boundary_values(self, rng: random.Random, depth: int = 0) -> list[Any]:
        """Values at the edges of the type: ends of ranges, empty / single / all-equal / sorted /
        reverse-sorted containers, first and last allowed characters (each valid for this type)."""
        k = self.kind
        out: list[Any] = []
        if self.one_of is not None:
            out = list(self.one_of[:1]) + list(self.one_of[-1:])
        elif k == "optional":
            out = [None] + self.items[0].boundary_values(rng, depth + 1)[:4]
        elif k == "bool":
            out = [False, True]
        elif k in ("int", "float"):
            lo, hi = self._range()
            cands: list[Any] = []
            for x in (self.lo, self.hi):
                if x is not None:
                    cands.append(x)
            if k == "int":
                cands += [c for c in (0, 1, -1) if lo <= c <= hi]
                if self.lo is not None:
                    cands.append(math.ceil(self.lo) + 1)
                if self.hi is not None:
                    cands.append(math.floor(self.hi) - 1)
                cands = [int(math.ceil(c)) if isinstance(c, float) else c for c in cands]
            else:
                cands += [c for c in (0.0, 0.5, -0.5, 1.0) if lo <= c <= hi]
                cands = [float(c) for c in cands]
            out = cands
        elif k == "str":
            alpha = self._alphabet()
            a, b = self._len_range()
            first, last = (alpha[0], alpha[-1]) if alpha else ("", "")
            out = ["" if a == 0 else first * a, first * max(a, 1), last * max(a, 1)]
            if self.max_len is not None and self.max_len <= 200:
                out += [first * self.max_len, last * self.max_len]
            if alpha and b >= 2:
                n = min(b, max(a, 4))
                out += [(alpha * n)[:n], (alpha[::-1] * n)[:n]]
        elif k == "list":
            item = self.items[0]
            a, b = self._len_range()
            ib = item.boundary_values(rng, depth + 1) if depth < MAX_DEPTH else []
            if a == 0:
                out.append([])
            for x in ib[:6]:
                out.append([x] * max(a, 1))
                if not self.unique and b >= 3:
                    out.append([x] * min(b, max(a, 4)))  # all equal
            try:
                pool = sorted({_hashable(v): v for v in ib + [item.generate(rng, depth + 1) for _ in range(6)]}.values())
            except (TypeError, ValueError):
                pool = []
            if pool:
                n = min(len(pool), b)
                if n >= a:
                    asc = pool[:n]
                    out += [list(asc), list(reversed(asc))]
            if self.max_len is not None and self.max_len <= 200 and ib:
                out.append([ib[0]] * self.max_len if not self.unique else [])
        elif k == "tuple":
            per = [t.boundary_values(rng, depth + 1) for t in self.items]
            base = [t.generate(rng, depth + 1) for t in self.items]
            out = [tuple(base)]
            for i, vals in enumerate(per):
                for x in vals[:4]:
                    row = list(base)
                    row[i] = x
                    out.append(tuple(row))
        elif k == "dict":
            a, _b = self._len_range()
            if a == 0:
                out.append({})
            kb = self.items[0].boundary_values(rng, depth + 1)
            vb = self.items[1].boundary_values(rng, depth + 1)
            for key in kb[:3]:
                for val in vb[:2]:
                    try:
                        out.append({key: val})
                    except TypeError:
                        break
        seen: set[str] = set()
        uniq = []
        for v in out:
            key = _hashable(v)
            if key not in seen and self.violation(v) is None:
                seen.add(key)
                uniq.append(v)
        return uniq

    # ------------------------------------------------------------ description
    def describe(self) -> str:
        """Compact text for reviewers and datasheets, e.g. ``list[int] (length <= 50, items in [0, 9], sorted)``."""
        parts = self.constraint_texts()
        return self.type_text() + (f" ({', '.join(parts)})" if parts else "")

    def constraint_texts(self) -> list[str]:
        """The constraints in words (without the type)."""
        k = self.kind
        if k == "optional":
            return self.items[0].constraint_texts()
        parts: list[str] = []
        if self.one_of is not None:
            parts.append(f"one of {list(self.one_of)!r}")
        if k in ("int", "float") and (self.lo is not None or self.hi is not None):
            parts.append(_range_text(self.lo, self.hi))
        if k in ("str", "list", "dict") and (self.min_len or self.max_len is not None):
            parts.append("length " + _range_text(self.min_len if self.min_len else None, self.max_len))
        if k == "str" and self.chars is not None:
            parts.append(f"characters from {_short(self.chars)}")
        if k == "list":
            inner = self.items[0].constraint_texts()
            if inner:
                parts.append("items " + ", ".join(inner))
            if self.sorted:
                parts.append("sorted" + (" descending" if self.sorted == "desc" else " ascending"))
            if self.unique:
                parts.append("distinct items")
        if k == "tuple":
            for i, t in enumerate(self.items):
                inner = t.constraint_texts()
                if inner:
                    parts.append(f"item {i}: " + ", ".join(inner))
        if k == "dict":
            for label, t in (("keys", self.items[0]), ("values", self.items[1])):
                inner = t.constraint_texts()
                if inner:
                    parts.append(f"{label} " + ", ".join(inner))
        return parts

    def type_text(self) -> str:
        """The bare type string (``list[int]``)."""
        k = self.kind
        if k == "list":
            return f"list[{self.items[0].type_text()}]"
        if k == "tuple":
            return "tuple[" + ", ".join(t.type_text() for t in self.items) + "]"
        if k == "dict":
            return f"dict[{self.items[0].type_text()}, {self.items[1].type_text()}]"
        if k == "optional":
            return f"optional[{self.items[0].type_text()}]"
        return k


@dataclass(frozen=True)
class ContractSpec:
    """A parsed contract spec (see the module docstring)."""

    args: tuple[TypeSpec, ...] | None
    predicate: str = ""
    unordered: bool = False
    note: str = ""
    names: tuple[str, ...] = field(default=())

    def violation(self, args: tuple[Any, ...] | list[Any]) -> str | None:
        """Why ``args`` break the typed part (None when they satisfy it, or there is no typed part)."""
        if self.args is None:
            return None
        if len(args) != len(self.args):
            return f"expected {len(self.args)} argument(s), got {len(args)}"
        for i, (t, v) in enumerate(zip(self.args, args)):
            why = t.violation(v, t.name or f"argument {i + 1}")
            if why:
                return why
        return None

    def generate(self, rng: random.Random) -> tuple[Any, ...]:
        if self.args is None:
            raise ValueError("no typed arguments to generate from")
        return tuple(t.generate(rng) for t in self.args)

    def boundaries(self, seed: str = "0", limit: int = 40) -> list[tuple[Any, ...]]:
        """Boundary inputs: each argument at each of its boundary values, the others at a typical
        value; then all arguments at their first / last boundary value together."""
        if self.args is None:
            return []
        rng = random.Random(f"boundaries:{seed}")
        per = [t.boundary_values(rng) for t in self.args]
        try:
            base = [t.generate(rng) for t in self.args]
        except ValueError:
            return []
        out: list[tuple[Any, ...]] = []
        if all(per):
            out.append(tuple(v[0] for v in per))
            out.append(tuple(v[-1] for v in per))
        for i, vals in enumerate(per):
            for x in vals:
                row = list(base)
                row[i] = x
                out.append(tuple(row))
        seen: set[str] = set()
        uniq = []
        for args in out:
            key = _hashable(args)
            if key not in seen and self.violation(args) is None:
                seen.add(key)
                uniq.append(args)
        return uniq[:limit]

    def describe(self) -> str:
        parts = []
        if self.args is not None:
            parts.append("; ".join(f"{t.name or f'arg{i + 1}'}: {t.describe()}" for i, t in enumerate(self.args)))
        if self.predicate:
            parts.append("and the task's own validity predicate")
        return " ".join(parts)


# ------------------------------------------------------------------ parsing
def try_parse_contract(obj: Any, param_names: list[str] | None = None) -> tuple[ContractSpec | None, list[str]]:
    """Parse a contract spec; returns ``(spec, [])`` or ``(None, problems)``. Never raises."""
    try:
        problems: list[str] = []
        spec = _parse_top(obj, param_names, problems)
        return (spec, []) if not problems and spec is not None else (None, problems or ["contract: cannot be read"])
    except RecursionError:
        return None, ["contract: nested too deeply"]
    except Exception as exc:  # noqa: BLE001 - the contract of this function: a clear error, never a crash
        return None, [f"contract: cannot be read ({type(exc).__name__}: {exc})"[:300]]


def parse_contract(obj: Any, param_names: list[str] | None = None) -> ContractSpec:
    """Parse a contract spec.

    Args:
        obj: the decoded JSON of the spec.
        param_names: the entry point's positional parameter names, when known: the number of
            ``args`` must match, and an ``args`` mapping must name exactly these parameters.

    Raises:
        ContractSpecError: listing every problem with its place.
    """
    spec, problems = try_parse_contract(obj, param_names)
    if spec is None:
        raise ContractSpecError(problems)
    return spec


def canonical_spec(spec: ContractSpec) -> dict[str, Any]:
    """The spec as canonical JSON data (``args`` as a list of objects with names)."""
    out: dict[str, Any] = {}
    if spec.args is not None:
        out["args"] = [_type_json(t) for t in spec.args]
    if spec.predicate:
        out["predicate"] = spec.predicate
    if spec.unordered:
        out["unordered_output"] = True
    if spec.note:
        out["note"] = spec.note
    return out


def _type_json(t: TypeSpec) -> dict[str, Any]:
    d: dict[str, Any] = {"type": t.type_text()}
    if t.name:
        d["name"] = t.name
    inner = t.items[0] if t.kind == "optional" else t
    _constraints_json(inner, d)
    return d


def _constraints_json(t: TypeSpec, d: dict[str, Any]) -> None:
    if t.lo is not None:
        d["min"] = t.lo
    if t.hi is not None:
        d["max"] = t.hi
    if t.one_of is not None:
        d["one_of"] = list(t.one_of)
    if t.kind in ("str", "list", "dict"):
        if t.min_len:
            d["min_len"] = t.min_len
        if t.max_len is not None:
            d["max_len"] = t.max_len
    if t.chars is not None:
        d["chars"] = t.chars
    if t.sorted:
        d["sorted"] = t.sorted
    if t.unique:
        d["unique"] = True
    if t.kind == "list":
        sub: dict[str, Any] = {}
        _constraints_json(t.items[0], sub)
        if sub:
            d["items"] = sub
    if t.kind == "tuple":
        subs = []
        for it in t.items:
            sd: dict[str, Any] = {}
            _constraints_json(it, sd)
            subs.append(sd)
        if any(subs):
            d["items"] = subs
    if t.kind == "dict":
        for label, it in (("keys", t.items[0]), ("values", t.items[1])):
            sd = {}
            _constraints_json(it, sd)
            if sd:
                d[label] = sd


def _parse_top(obj: Any, param_names: list[str] | None, problems: list[str]) -> ContractSpec | None:
    if not isinstance(obj, dict):
        problems.append(f"contract: expected an object with `args` and/or `predicate`, got {_tname(obj)}")
        return None
    unknown = [k for k in obj if k not in TOP_KEYS]
    if unknown:
        problems.append(f"contract: unknown key {str(unknown[0])!r} (known: {', '.join(TOP_KEYS)})")
    if "args" not in obj and "predicate" not in obj:
        problems.append("contract: needs `args` (argument types) and/or `predicate` (a sandbox validity check)")
    args: tuple[TypeSpec, ...] | None = None
    names: tuple[str, ...] = ()
    if "args" in obj:
        raw = obj["args"]
        items: list[tuple[str, Any]] = []
        if isinstance(raw, list):
            items = [("", a) for a in raw]
            if param_names is not None and len(raw) != len(param_names):
                problems.append(f"contract.args: {len(raw)} type(s) for {len(param_names)} parameter(s) "
                                f"({', '.join(param_names) or 'none'})")
        elif isinstance(raw, dict):
            items = [(str(k), v) for k, v in raw.items()]
            if param_names is not None:
                given = [k for k, _ in items]
                if sorted(given) != sorted(param_names):
                    problems.append(f"contract.args: names {given} do not match the parameters {param_names}")
                else:
                    order = {n: i for i, n in enumerate(param_names)}
                    items.sort(key=lambda kv: order[kv[0]])
        else:
            problems.append(f"contract.args: expected a list of types or an object of name: type, got {_tname(raw)}")
        parsed = []
        for i, (name, a) in enumerate(items):
            where = f"contract.args.{name}" if name else f"contract.args[{i}]"
            t = _parse_arg(a, where, problems, 0)
            if t is not None:
                nm = name or (param_names[i] if param_names is not None and i < len(param_names) else "")
                if isinstance(a, dict) and isinstance(a.get("name"), str) and not name:
                    nm = a["name"]
                parsed.append(_named(t, nm))
        if len(parsed) == len(items):
            args = tuple(parsed)
            names = tuple(t.name for t in parsed)
    predicate = ""
    if "predicate" in obj:
        p = obj["predicate"]
        if not isinstance(p, str) or not p.strip():
            problems.append("contract.predicate: expected Python source defining `def valid(...)`")
        else:
            why = source_defines(p, "valid")
            if why:
                problems.append(f"contract.predicate: {why}")
            else:
                arity = _arity(p, "valid")
                n = len(args) if args is not None else (len(param_names) if param_names is not None else None)
                if n is not None and arity is not None and not arity[0] <= n <= arity[1]:
                    problems.append(f"contract.predicate: `valid` takes {arity[0]}..{arity[1]} argument(s), "
                                    f"the task has {n}")
                predicate = p
    unordered = obj.get("unordered_output", False)
    if not isinstance(unordered, bool):
        problems.append("contract.unordered_output: expected true or false")
        unordered = False
    note = obj.get("note", "")
    if not isinstance(note, str):
        problems.append("contract.note: expected a string")
        note = ""
    if problems:
        return None
    return ContractSpec(args=args, predicate=predicate, unordered=unordered, note=note, names=names)


def _named(t: TypeSpec, name: str) -> TypeSpec:
    from dataclasses import replace

    return replace(t, name=name) if name else t


def _parse_arg(a: Any, where: str, problems: list[str], depth: int, implied: TypeSpec | None = None) -> TypeSpec | None:
    """One ARG: a type string or an object with ``type`` and constraints (``implied``: the type a
    parent's type string gives, so ``items`` objects may leave ``type`` out)."""
    if depth > MAX_DEPTH:
        problems.append(f"{where}: nested too deeply (at most {MAX_DEPTH} levels)")
        return None
    if isinstance(a, str):
        t = _parse_type_text(a, where, problems)
        if t is not None and implied is not None and t.type_text() != implied.type_text():
            problems.append(f"{where}: type {a!r} disagrees with {implied.type_text()!r} given by the enclosing type")
            return None
        return t
    if not isinstance(a, dict):
        problems.append(f"{where}: expected a type string (e.g. \"list[int]\") or an object with \"type\", got {_tname(a)}")
        return None
    if "type" in a:
        if not isinstance(a["type"], str):
            problems.append(f"{where}.type: expected a type string, got {_tname(a['type'])}")
            return None
        base = _parse_type_text(a["type"], where, problems)
        if base is None:
            return None
        if implied is not None and base.type_text() != implied.type_text():
            problems.append(f"{where}: type {a['type']!r} disagrees with {implied.type_text()!r} given by the enclosing type")
            return None
    elif implied is not None:
        base = implied
    else:
        problems.append(f"{where}: needs \"type\" (one of {', '.join(BASE_TYPES + COMPOUND_TYPES)})")
        return None
    name = a.get("name", "")
    if not isinstance(name, str):
        problems.append(f"{where}.name: expected a string")
        name = ""
    t = _apply_constraints(base, a, where, problems, depth)
    return _named(t, name) if t is not None else None


def _apply_constraints(base: TypeSpec, a: dict[Any, Any], where: str, problems: list[str], depth: int) -> TypeSpec | None:
    from dataclasses import replace

    if base.kind == "optional":
        inner = _apply_constraints(base.items[0], a, where, problems, depth + 1)
        return replace(base, items=(inner,)) if inner is not None else None
    k = base.kind
    allowed = _KEYS[k]
    n_before = len(problems)
    for key in a:
        if key not in allowed:
            problems.append(f"{where}: unknown key {str(key)!r} for {base.type_text()} "
                            f"(known: {', '.join(sorted(allowed))})")
    fields: dict[str, Any] = {}
    for key in ("min", "max"):
        if key in a and key in allowed:
            v = a[key]
            if type(v) not in (int, float) or (type(v) is float and not math.isfinite(v)):
                problems.append(f"{where}.{key}: expected a number, got {_tname(v)}")
            elif k == "int" and type(v) is not int:
                problems.append(f"{where}.{key}: expected an integer for an int, got {v!r}")
            else:
                fields["lo" if key == "min" else "hi"] = v
    if "lo" in fields and "hi" in fields and fields["lo"] > fields["hi"]:
        problems.append(f"{where}: min {fields['lo']!r} is above max {fields['hi']!r}")
    for key in ("min_len", "max_len"):
        if key in a and key in allowed:
            v = a[key]
            if type(v) is not int or v < 0:
                problems.append(f"{where}.{key}: expected a non-negative integer, got {v!r}"[:200])
            else:
                fields[key] = v
    if fields.get("min_len", 0) > fields.get("max_len", float("inf")):
        problems.append(f"{where}: min_len {fields['min_len']} is above max_len {fields['max_len']}")
    if k == "str":
        chars: set[str] | None = None
        if "chars" in a:
            v = a["chars"]
            if not isinstance(v, str) or not v:
                problems.append(f"{where}.chars: expected a non-empty string of allowed characters")
            else:
                chars = set(v)
        if "charset" in a:
            v = a["charset"]
            names = [v] if isinstance(v, str) else v
            if not isinstance(names, list) or not names or not all(isinstance(x, str) for x in names):
                problems.append(f"{where}.charset: expected a name or a list of names ({', '.join(CHARSETS)})")
            else:
                for nm in names:
                    if nm not in CHARSETS:
                        problems.append(f"{where}.charset: unknown character class {nm!r} (known: {', '.join(CHARSETS)})")
                    else:
                        chars = (chars or set()) | set(CHARSETS[nm])
        if chars is not None:
            fields["chars"] = "".join(sorted(chars))
    if "one_of" in a and "one_of" in allowed:
        v = a["one_of"]
        if not isinstance(v, list) or not v:
            problems.append(f"{where}.one_of: expected a non-empty list of values")
        else:
            plain = replace(base, **{x: y for x, y in fields.items() if x in ("lo", "hi", "min_len", "max_len", "chars")})
            for i, x in enumerate(v):
                why = plain.violation(x, f"{where}.one_of[{i}]")
                if why:
                    problems.append(why)
            fields["one_of"] = tuple(v)
    if k == "list":
        if "sorted" in a:
            v = a["sorted"]
            if v is True or v == "asc":
                fields["sorted"] = "asc"
            elif v == "desc":
                fields["sorted"] = "desc"
            elif v is not False:
                problems.append(f"{where}.sorted: expected true, \"asc\", \"desc\" or false")
        if "unique" in a:
            if not isinstance(a["unique"], bool):
                problems.append(f"{where}.unique: expected true or false")
            else:
                fields["unique"] = a["unique"]
    items = list(base.items)
    if k == "list" and "items" in a:
        t = _parse_arg(a["items"], f"{where}.items", problems, depth + 1, implied=base.items[0] if base.items else None)
        if t is not None:
            items = [t]
    if k == "list" and not items:
        problems.append(f"{where}: a list needs its item type: \"list[int]\" or \"items\": {{\"type\": ...}}")
    if k == "tuple" and "items" in a:
        v = a["items"]
        if not isinstance(v, list) or len(v) != len(base.items):
            problems.append(f"{where}.items: expected a list of {len(base.items)} constraint object(s), one per position")
        else:
            got = [_parse_arg(x, f"{where}.items[{i}]", problems, depth + 1, implied=base.items[i]) for i, x in enumerate(v)]
            if all(g is not None for g in got):
                items = got  # type: ignore[assignment]
    if k == "dict":
        for i, key in enumerate(("keys", "values")):
            if key in a:
                t = _parse_arg(a[key], f"{where}.{key}", problems, depth + 1, implied=base.items[i])
                if t is not None:
                    items[i] = t
    if len(problems) > n_before:
        return None
    return replace(base, items=tuple(items), **fields)


def _parse_type_text(text: str, where: str, problems: list[str]) -> TypeSpec | None:
    """``int`` / ``list[int]`` / ``dict[str, list[int]]`` / ``tuple[int, str]`` / ``optional[int]``."""
    if len(text) > 500:
        problems.append(f"{where}: type string too long")
        return None
    pos = [0]
    s = text.replace(" ", "")

    def fail(msg: str) -> None:
        raise _TypeTextError(f"{where}: cannot read type {text!r}: {msg}")

    def parse(depth: int) -> TypeSpec:
        if depth > MAX_DEPTH:
            fail("nested too deeply")
        start = pos[0]
        while pos[0] < len(s) and (s[pos[0]].isalnum() or s[pos[0]] == "_"):
            pos[0] += 1
        name = s[start:pos[0]].lower()
        if not name:
            fail(f"expected a type name at position {start + 1}")
        if name in ("none", "nonetype"):
            fail("use optional[T] for a value that may be None")
        if name in BASE_TYPES:
            return TypeSpec(kind=name)
        if name not in COMPOUND_TYPES:
            fail(f"unknown type {name!r} (known: {', '.join(BASE_TYPES + COMPOUND_TYPES)})")
        if pos[0] >= len(s) or s[pos[0]] != "[":
            if name == "list":
                return TypeSpec(kind="list")  # item type from "items"
            fail(f"{name} needs its parameters, e.g. {name}[{'int, str' if name in ('tuple', 'dict') else 'int'}]")
        pos[0] += 1
        params = [parse(depth + 1)]
        while pos[0] < len(s) and s[pos[0]] == ",":
            pos[0] += 1
            params.append(parse(depth + 1))
        if pos[0] >= len(s) or s[pos[0]] != "]":
            fail("missing ']'")
        pos[0] += 1
        want = {"list": 1, "optional": 1, "dict": 2}.get(name)
        if want is not None and len(params) != want:
            fail(f"{name} takes {want} type parameter(s), got {len(params)}")
        return TypeSpec(kind=name, items=tuple(params))

    try:
        t = parse(0)
        if pos[0] != len(s):
            fail(f"unexpected {s[pos[0]:]!r}")
        return t
    except _TypeTextError as exc:
        problems.append(str(exc))
        return None


class _TypeTextError(Exception):
    pass


def source_defines(source: str, name: str) -> str | None:
    """Why ``source`` is not Python defining function ``name`` at top level (None when it is).
    Only parses the text; never runs it."""
    if len(source) > MAX_SPEC_CHARS:
        return "source too long"
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return f"not valid Python: {exc.msg} (line {exc.lineno})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"cannot be parsed ({type(exc).__name__})"
    if not any(isinstance(n, ast.FunctionDef) and n.name == name for n in tree.body):
        return f"must define `def {name}(...)` at top level"
    return None


def _arity(source: str, name: str) -> tuple[int, float] | None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for n in tree.body:
        if isinstance(n, ast.FunctionDef) and n.name == name:
            total = len(n.args.posonlyargs) + len(n.args.args)
            return total - len(n.args.defaults), (float("inf") if n.args.vararg else total)
    return None


# ------------------------------------------------------------------ inference (suggestions only)
def infer_type(values: list[Any]) -> TypeSpec | None:
    """The narrowest type of the language that every value has (None: no such type)."""
    if not values:
        return None
    if any(v is None for v in values):
        rest = [v for v in values if v is not None]
        inner = infer_type(rest) if rest else None
        return TypeSpec(kind="optional", items=(inner,)) if inner is not None else None
    kinds = {type(v) for v in values}
    if kinds == {bool}:
        return TypeSpec(kind="bool")
    if kinds == {int}:
        return TypeSpec(kind="int")
    if kinds <= {int, float}:
        return TypeSpec(kind="float")
    if kinds == {str}:
        return TypeSpec(kind="str")
    if kinds == {list}:
        items = [x for v in values for x in v]
        inner = infer_type(items) if items else TypeSpec(kind="int")
        return TypeSpec(kind="list", items=(inner,)) if inner is not None else None
    if kinds == {tuple}:
        n = {len(v) for v in values}
        if len(n) != 1:
            return None
        per = [infer_type([v[i] for v in values]) for i in range(n.pop())]
        return None if any(p is None for p in per) else TypeSpec(kind="tuple", items=tuple(per))  # type: ignore[arg-type]
    if kinds == {dict}:
        ks = [k for v in values for k in v]
        vs = [x for v in values for x in v.values()]
        kt = infer_type(ks) if ks else TypeSpec(kind="str")
        vt = infer_type(vs) if vs else TypeSpec(kind="int")
        return TypeSpec(kind="dict", items=(kt, vt)) if kt is not None and vt is not None else None
    return None


def observed(values: list[Any]) -> dict[str, Any]:
    """What the examples show of one argument (ranges, lengths, characters): context for a
    suggestion, never part of it."""
    out: dict[str, Any] = {"n": len(values)}
    nums = [v for v in values if type(v) in (int, float)]
    if nums:
        out["min"], out["max"] = min(nums), max(nums)
    sized = [v for v in values if isinstance(v, (str, list, tuple, dict))]
    if sized:
        out["min_len"], out["max_len"] = min(len(v) for v in sized), max(len(v) for v in sized)
    chars = sorted({c for v in values if isinstance(v, str) for c in v})
    if chars:
        out["chars"] = "".join(chars)[:100]
    return out


# ------------------------------------------------------------------ helpers
def _tname(v: Any) -> str:
    return "null" if v is None else type(v).__name__


def _short(chars: str) -> str:
    return repr(chars if len(chars) <= 40 else chars[:37] + "...")


def _range_text(lo: Any, hi: Any) -> str:
    if lo is not None and hi is not None:
        return f"in [{lo}, {hi}]"
    if lo is not None:
        return f">= {lo}"
    return f"<= {hi}"


def _hashable(v: Any) -> str:
    return repr((type(v).__name__, v)) if not isinstance(v, (list, dict, tuple)) else repr(_freeze(v))


def _freeze(v: Any) -> Any:
    if isinstance(v, list):
        return ("list", tuple(_freeze(x) for x in v))
    if isinstance(v, tuple):
        return ("tuple", tuple(_freeze(x) for x in v))
    if isinstance(v, dict):
        return ("dict", tuple((_freeze(k), _freeze(x)) for k, x in v.items()))
    return (type(v).__name__, v)
