"""Share attribute names: reserved names are refused with a clear error, and a stopped Share still
answers for its names (``dir``, ``repr``, missing attributes) from the owner's copy."""

from __future__ import annotations

import pytest

from suitkaise_processing import Share

pytestmark = pytest.mark.timeout(120)


def test_reserved_names_cannot_be_read_or_deleted() -> None:
    share = Share()
    try:
        share.x = 1
        with pytest.raises(AttributeError, match="_sk_nothing"):
            share._sk_nothing  # noqa: B018
        with pytest.raises(AttributeError, match="__nothing"):
            delattr(share, "__nothing")
        with pytest.raises(AttributeError, match="is reserved"):
            share._sk_value = 1
        assert share.x == 1
    finally:
        share.stop()


def test_repr_shortens_long_values() -> None:
    share = Share()
    try:
        share.long = "y" * 100
        share.n = 3
        text = repr(share)
        assert text.startswith("Share(")
        assert "n=3" in text
        assert f"long='{'y' * 56}..." in text
        assert "y" * 60 not in text
    finally:
        share.stop()


def test_a_stopped_share_answers_from_the_owners_copy() -> None:
    share = Share()
    share.kept = [1, 2]
    share.stop()
    assert share.kept == [1, 2]
    assert "kept" in dir(share)
    assert repr(share) == "Share(stopped; kept=[1, 2])"
    with pytest.raises(AttributeError, match="the Share has no attribute 'missing'"):
        share.missing  # noqa: B018
    with pytest.warns(RuntimeWarning, match="the Share is stopped"):
        share.kept.append(3)
    assert share.kept == [1, 2, 3]
