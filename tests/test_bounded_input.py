"""The shared bounds on outside input: JSON nesting (`encoding.bounded_json`) and the retry
schedule of transient broadcast failures (`daemon.retry`), in-process."""

import pytest

from kms_ref.daemon.retry import MAX_WAIT, HeldBack
from kms_ref.encoding.bounded_json import MAX_DEPTH, depth, parse_json


@pytest.mark.parametrize("text,levels", [("1", 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4),
                                         ("[" * MAX_DEPTH + "]" * MAX_DEPTH, MAX_DEPTH)])
def test_depth(text, levels):
    assert depth(parse_json(text)) == levels


@pytest.mark.parametrize("text", ["[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "[" * 100000,
                                  '{"a":' * 100000 + "1" + "}" * 100000], ids=["one-too-many", "open", "objects"])
def test_too_deep_is_a_value_error(text):
    with pytest.raises(ValueError, match="the input is nested deeper than %d levels" % MAX_DEPTH):
        parse_json(text, "the input")


def test_the_bracket_count_only_decides_when_to_look():
    """Brackets inside strings count towards the quick bound but not towards the depth; bytes
    are bounded like text."""
    assert parse_json('["' + "[{" * 100 + '"]') == ["[{" * 100]
    with pytest.raises(ValueError, match="nested deeper"):
        parse_json(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))


@pytest.mark.parametrize("text", ["", "{", "[1,]", b"\xff"])
def test_malformed_is_a_value_error(text):
    with pytest.raises(ValueError, match="^the input is not valid JSON$"):
        parse_json(text, "the input")


def test_held_back_schedule():
    now = [1000.0]
    held = HeldBack(period=5, clock=lambda: now[0])
    assert held.summary() == "" and not held.waiting("a")
    assert [held.hold("a", "HTTP 401: expired") for _ in range(5)] == [5, 10, 20, 40, 80]
    assert held.waiting("a")
    now[0] += 80
    assert not held.waiting("a")
    for _ in range(10):
        wait = held.hold("a", "HTTP 429: slow down")
    assert wait == MAX_WAIT
    assert held.summary().startswith("Holding back 1 transaction(s) after transient errors, retried with "
                                     "back-off: a (HTTP 429: slow down; failed 15 time(s), next try in 300 s)")
    held.release("a")
    assert held.summary() == "" and not held.waiting("a")
