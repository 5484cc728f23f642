"""The JSON-safe value encoding round-trips what candidates return."""

from __future__ import annotations

import json
import math
from collections import Counter, OrderedDict, namedtuple

import pytest

from harness import codec

ROUND_TRIP = [
    None, True, False, 0, -7, 10**40, 1.5, -0.0, "", "héllo\n", [1, [2, [3]]],
    (1, "a", (2.5,)), (), {"a": 1, "b": [1, 2]}, {1: "x", (1, 2): None, None: 3},
    {3, 1, 2}, frozenset({"x", "y"}), set(), b"\x00\xff bytes", complex(1, -2),
    [float("inf"), float("-inf")], {"nested": ({1, 2}, [b"ab"], {"k": (None,)})},
]


@pytest.mark.parametrize("value", ROUND_TRIP, ids=lambda v: type(v).__name__)
def test_round_trip_is_exact(value):
    text = codec.dumps(value)
    json.loads(text)  # plain JSON, no NaN tokens
    back = codec.loads(text)
    assert back == value
    assert type(back) is type(value)


def test_nan_round_trips_and_is_valid_json():
    text = codec.dumps([float("nan"), complex(float("nan"), 1)])
    assert "NaN" not in text
    back = codec.loads(text)
    assert math.isnan(back[0]) and math.isnan(back[1].real)


def test_tuple_and_list_stay_distinct():
    assert codec.encode((1, 2)) != codec.encode([1, 2])
    assert codec.decode(codec.encode((1, 2))) == (1, 2)


def test_dict_preserves_insertion_order_and_key_types():
    d = {2: "b", 1: "a", "1": "s"}
    back = codec.decode(codec.encode(d))
    assert list(back.items()) == list(d.items())


def test_subclasses_encode_as_their_base():
    Point = namedtuple("Point", "x y")
    assert codec.decode(codec.encode(Point(1, 2))) == (1, 2)
    assert codec.decode(codec.encode(Counter("aab"))) == {"a": 2, "b": 1}
    assert codec.decode(codec.encode(OrderedDict(a=1))) == {"a": 1}


def test_unknown_objects_fall_back_to_repr():
    class Thing:
        def __repr__(self):
            return "Thing()"

    enc = codec.encode(Thing())
    assert enc == {"t": "repr", "v": {"type": "Thing", "repr": "Thing()"}}
    opaque = codec.decode(enc)
    assert isinstance(opaque, codec.Opaque) and opaque == codec.decode(enc) and opaque != "Thing()"


def test_repr_that_raises_is_contained():
    class Evil:
        def __repr__(self):
            raise RuntimeError("no")

    assert codec.encode(Evil())["v"]["repr"] == "<repr failed>"


def test_plain_json_objects_decode_to_dicts():
    assert codec.decode([{"a": 1}, {"t": "unknown-tag", "v": 1}]) == [{"a": 1}, {"t": "unknown-tag", "v": 1}]


def test_malformed_float_tag_is_rejected():
    with pytest.raises(ValueError):
        codec.decode({"t": "float", "v": "zero"})


def test_deep_nesting_is_bounded():
    x: list = []
    for _ in range(500):
        x = [x]
    text = json.dumps(codec.encode(x))
    assert "too deep" in text
