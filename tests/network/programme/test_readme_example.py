"""The README's worked example of the programme runs as written, so it cannot drift."""

from __future__ import annotations

import doctest
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def programme_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## The programme\n")
    return text[start:text.index("\n## ", start + 1)]


def test_the_worked_example_runs_as_written():
    parser = doctest.DocTestParser()
    test = parser.get_doctest(programme_section(), {}, "README: The programme", str(README), 0)
    assert len(test.examples) >= 15  # the example is there, not an empty block
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    messages: list[str] = []
    runner.run(test, out=messages.append)
    assert runner.failures == 0, "".join(messages)
