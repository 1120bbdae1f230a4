"""What an operation answers, and the checks of the amounts it is asked for (plain values; the
wrapper that makes every operation idempotent is `idempotent.run`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from network.ledger.errors import AmountTooLarge, InvalidAmount, InvalidInput

# One operation moves at most a billion points: large enough for any real purchase, small enough
# that a typo of six extra zeros is caught, and far inside 64-bit sums.
MAX_POINTS = 1_000_000_000


@dataclass(frozen=True)
class Receipt:
    entry_id: int
    kind: str
    member_id: int
    points: int
    booked_at: str  # ISO 8601 UTC; a string so a replay returns exactly the first answer
    balance: int
    held: int
    hold_id: int | None = None
    lot_id: int | None = None
    debt: int = 0
    # An earn's explanation when the programme added points (rules.breakdown): the base line,
    # then one per campaign or tier part with its funder. Empty: all points are the base.
    breakdown: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.breakdown:
            del data["breakdown"]  # stored answers of plain earns stay as they always were
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Receipt:
        fields = dict(data)
        fields["breakdown"] = tuple(fields.get("breakdown") or ())
        return cls(**fields)


MAX_REFERENCE = 200  # journal_entries.reference and holds.reference are VARCHAR(200)


def check_reference(reference: str | None) -> None:
    """Checked before the transaction: PostgreSQL refuses a longer one only at the insert, as an
    internal error, and SQLite would store it whole."""
    if reference is not None and len(reference) > MAX_REFERENCE:
        raise InvalidInput(f"reference is at most {MAX_REFERENCE} characters", field="reference")


def check_points(points: object, field: str = "points") -> int:
    if isinstance(points, bool) or not isinstance(points, int):
        raise InvalidAmount(f"{field} must be a whole number of points, got {points!r}",
                            field=field)
    if points <= 0:
        raise InvalidAmount(f"{field} must be greater than zero, got {points}", field=field)
    if points > MAX_POINTS:
        raise AmountTooLarge(f"{field} may be at most {MAX_POINTS:,}, got {points:,}", field=field)
    return points
