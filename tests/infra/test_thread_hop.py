"""The endpoint's trip to a worker thread (infra/thread_hop.py): the answer, the error and the
request's context variables come back as `run_in_executor` brought them."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from infra.thread_hop import ThreadHop

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("test_request_id", default="-")


def test_runs_on_its_threads_and_returns_the_answer() -> None:
    hop = ThreadHop(2, "test_hop")

    def where(a: int, b: int) -> tuple[str, int]:
        return threading.current_thread().name, a + b

    name, total = asyncio.run(hop.run(where, 2, 3))
    assert total == 5
    assert name.startswith("test_hop_") and name != threading.current_thread().name


def test_an_exception_is_raised_in_the_awaiting_task() -> None:
    hop = ThreadHop(1, "test_hop")

    def fail() -> None:
        raise LookupError("no such card")

    with pytest.raises(LookupError, match="no such card"):
        asyncio.run(hop.run(fail))
    assert asyncio.run(hop.run(lambda: "still serving")) == "still serving"


def test_many_in_flight_each_get_their_own_answer_and_context() -> None:
    hop = ThreadHop(3, "test_hop")

    async def one(number: int) -> tuple[int, str]:
        request_id.set(f"r{number}")
        return number, await hop.run(contextvars.copy_context().run, request_id.get)

    async def many() -> list[tuple[int, str]]:
        return await asyncio.gather(*(one(n) for n in range(200)))

    assert asyncio.run(many()) == [(n, f"r{n}") for n in range(200)]


def test_a_cancelled_request_leaves_the_threads_serving() -> None:
    hop = ThreadHop(1, "test_hop")
    release = threading.Event()

    async def cancel_one() -> str:
        slow = asyncio.ensure_future(hop.run(release.wait, 5))
        await asyncio.sleep(0.01)
        slow.cancel()
        release.set()  # the work finishes after its task was cancelled: its answer is dropped
        with pytest.raises(asyncio.CancelledError):
            await slow
        return await hop.run(lambda: "next")

    assert asyncio.run(cancel_one()) == "next"
