"""JSON-safe encoding of Python values that crosses the sandbox boundary.

This module is copied into the sandbox image next to ``runner.py`` and must stay
standard-library only. Every value is encoded to plain JSON: ``None``, ``bool``,
``int``, ``str``, finite ``float`` and ``list`` map to themselves; everything else
becomes a tagged object ``{"t": TAG, "v": ...}``:

========== ==============================================
tag        meaning
========== ==============================================
float      ``"nan"``, ``"inf"`` or ``"-inf"``
tuple      list of encoded items
set        list of encoded items (sorted by encoding)
frozenset  list of encoded items (sorted by encoding)
dict       list of ``[key, value]`` pairs, insertion order
bytes      base64 text
complex    ``[real, imag]`` (each an encoded float)
repr       ``{"type": name, "repr": text}``: anything else
========== ==============================================

Decoding a plain JSON object (no known ``t`` tag) yields a ``dict``, so that
hand-written inputs such as ``[{"a": 1}]`` work.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

MAX_DEPTH = 100
MAX_REPR = 2000
_TAGS = frozenset({"float", "tuple", "set", "frozenset", "dict", "bytes", "complex", "repr"})


class Opaque:
    """A value that had no JSON-safe encoding; it equals only an identical Opaque."""

    __slots__ = ("type_name", "text")

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name = type_name
        self.text = text

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Opaque)
            and other.type_name == self.type_name
            and other.text == self.text
        )

    def __hash__(self) -> int:
        return hash((self.type_name, self.text))

    def __repr__(self) -> str:
        return f"<opaque {self.type_name}: {self.text}>"


def _float(x: float) -> Any:
    if math.isnan(x):
        return {"t": "float", "v": "nan"}
    if math.isinf(x):
        return {"t": "float", "v": "inf" if x > 0 else "-inf"}
    return x


def _sort_key(encoded: Any) -> str:
    return json.dumps(encoded, sort_keys=True)


def encode(value: Any, _depth: int = 0) -> Any:
    """Encode ``value`` into JSON-safe data (see module docstring)."""
    if _depth > MAX_DEPTH:
        return {"t": "repr", "v": {"type": type(value).__name__, "repr": "<too deep>"}}
    d = _depth + 1
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        return value
    if t is float:
        return _float(value)
    if t is list:
        return [encode(x, d) for x in value]
    if t is tuple:
        return {"t": "tuple", "v": [encode(x, d) for x in value]}
    if t is dict:
        return {"t": "dict", "v": [[encode(k, d), encode(v, d)] for k, v in value.items()]}
    if t is set or t is frozenset:
        items = sorted((encode(x, d) for x in value), key=_sort_key)
        return {"t": "set" if t is set else "frozenset", "v": items}
    if t is bytes:
        return {"t": "bytes", "v": base64.b64encode(value).decode("ascii")}
    if t is complex:
        return {"t": "complex", "v": [_float(value.real), _float(value.imag)]}
    if isinstance(value, Opaque):
        return {"t": "repr", "v": {"type": value.type_name, "repr": value.text}}
    # Subclasses (Counter, defaultdict, namedtuple, IntEnum...) compare like their base.
    bases: tuple[Any, ...] = (bool, int, float, str, list, tuple, dict, set, frozenset, bytes)
    for base in bases:
        if isinstance(value, base):
            try:
                return encode(base(value), _depth)
            except BaseException:  # noqa: BLE001 - untrusted conversions may raise
                break
    try:
        text = repr(value)
    except BaseException:  # noqa: BLE001 - untrusted __repr__ may raise anything
        text = "<repr failed>"
    return {"t": "repr", "v": {"type": t.__name__, "repr": text[:MAX_REPR]}}


def decode(data: Any) -> Any:
    """Invert :func:`encode`; raises ``ValueError`` on malformed or too deeply nested data."""
    try:
        return _decode(data, 0)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - TypeError, AttributeError, RecursionError...
        raise ValueError(f"malformed encoded value: {type(exc).__name__}: {exc}") from None


def _decode(data: Any, depth: int) -> Any:
    if depth > MAX_DEPTH + 2:
        raise ValueError("encoded value nested too deeply")
    d = depth + 1
    if isinstance(data, list):
        return [_decode(x, d) for x in data]
    if not isinstance(data, dict):
        return data
    tag = data.get("t")
    if tag not in _TAGS or set(data) != {"t", "v"}:
        return {k: _decode(v, d) for k, v in data.items()}
    v = data["v"]
    if tag == "float":
        if v not in ("nan", "inf", "-inf"):
            raise ValueError(f"bad float tag value {v!r}")
        return float(v)
    if tag == "bytes":
        if not isinstance(v, str):
            raise ValueError("bytes tag needs base64 text")
        return base64.b64decode(v, validate=True)
    if tag == "repr":
        if not isinstance(v, dict):
            raise ValueError("repr tag needs an object")
        return Opaque(str(v.get("type", "?")), str(v.get("repr", "")))
    if not isinstance(v, list):
        raise ValueError(f"{tag} tag needs a list")
    if tag == "tuple":
        return tuple(_decode(x, d) for x in v)
    if tag == "set":
        return {_decode(x, d) for x in v}
    if tag == "frozenset":
        return frozenset(_decode(x, d) for x in v)
    if tag == "dict":
        return {_decode(k, d): _decode(val, d) for k, val in v}
    re, im = (_decode(x, d) for x in v)
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (re, im)):
        raise ValueError("complex tag needs two numbers")
    return complex(re, im)


def dumps(value: Any) -> str:
    """Encode and serialise to compact JSON text."""
    return json.dumps(encode(value), separators=(",", ":"), allow_nan=False)


def loads(text: str) -> Any:
    """Parse JSON text and decode it."""
    return decode(json.loads(text))
