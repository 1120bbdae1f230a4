"""The netting figures in words: a central counterparty can need more payments than bilateral
settlement, and the summary must say so rather than print a ratio of 0 that looks like a bug."""

from __future__ import annotations

from decimal import Decimal

from network.money import Money
from settlement.clearing import ObligationLine
from settlement.netting import explain, net

HUB, A, B, C = 1, 2, 3, 4


def _owes(payer: int, payee: int, minor: int) -> ObligationLine:
    return ObligationLine(payer, payee, "redemption", "redemption", 0, minor, Decimal(1), minor,
                          minor)


def _words(lines: list[ObligationLine]) -> tuple[str, Decimal]:
    n = net(lines, HUB)
    text = explain(n.bilateral_payments, n.netted_payments, n.gross_obligations_minor,
                   n.netted_value_minor, lambda m: Money(m, "EUR").format())
    return text, n.netting_ratio


def test_two_bilateral_payments_become_three_through_the_hub() -> None:
    """A owes B and C: bilaterally 2 payments; through the hub A pays it once and it pays B
    and C, 3 payments, and nothing cancels out (ratio 0)."""
    text, ratio = _words([_owes(A, B, 1000), _owes(A, C, 500)])
    assert ratio == 0
    assert "2 payments bilaterally become 3 payments: more, not fewer" in text
    assert "the hub moves 15.00 EUR of 15.00 EUR gross obligations" in text
    assert "nothing cancels out, because no party is both owed and owing" in text


def test_netting_that_saves_payments_and_value() -> None:
    """A owes B 10.00, B owes C 6.00, C owes A 4.00: 3 bilateral payments; nets A -6, B +4,
    C +2, so the hub makes 3 payments too but moves 6.00 instead of 20.00."""
    text, ratio = _words([_owes(A, B, 1000), _owes(B, C, 600), _owes(C, A, 400)])
    assert ratio == Decimal("0.7000")
    assert "3 payments, as many as bilateral settlement would need" in text
    assert "the hub moves 6.00 EUR of 20.00 EUR gross obligations; 14.00 EUR cancels out" in text
    d = 5
    fewer, _ = _words([_owes(A, B, 1000), _owes(A, C, 1000), _owes(A, d, 1000),
                       _owes(B, C, 500), _owes(B, d, 500), _owes(C, d, 500)])
    # Nets: A -30.00, B 0, C +10.00, D +20.00: six pairs settle with three payments.
    assert "6 payments bilaterally become 3 payments: each party pays the hub or is paid" in fewer
    single, _ = _words([_owes(A, B, 1000), _owes(B, A, 400)])
    assert single.startswith("through the hub, 1 payment bilaterally becomes 2 payments")


def test_nothing_to_settle() -> None:
    text, ratio = _words([])
    assert ratio == 0 and text == "nothing to settle: no party owes another in this period"
