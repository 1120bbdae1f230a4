"""Settings read from POINTSNET_* variables, with a clear error naming a bad value."""

from __future__ import annotations

import pytest

from network.config import Settings


def test_graphql_threads_default_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POINTSNET_GRAPHQL_THREADS", raising=False)
    assert Settings.from_env().graphql_threads == 4
    monkeypatch.setenv("POINTSNET_GRAPHQL_THREADS", "8")
    assert Settings.from_env().graphql_threads == 8


@pytest.mark.parametrize(("value", "message"), [
    ("four", "POINTSNET_GRAPHQL_THREADS must be a whole number, got 'four'"),
    ("0", "POINTSNET_GRAPHQL_THREADS must be 1 to 64, got 0"),
    ("65", "POINTSNET_GRAPHQL_THREADS must be 1 to 64, got 65"),
])
def test_a_bad_thread_count_is_named(monkeypatch: pytest.MonkeyPatch, value: str,
                                     message: str) -> None:
    monkeypatch.setenv("POINTSNET_GRAPHQL_THREADS", value)
    with pytest.raises(ValueError) as info:
        Settings.from_env()
    assert str(info.value) == message
