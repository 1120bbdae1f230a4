"""When to try a failed delivery again, when to give it up, when to disable its endpoint.

- A delivery is tried at once, then again after about 10 s, 20 s, 40 s… doubling up to 6 hours
  between tries, each wait drawn between half and all of that (jitter, so the deliveries of an
  endpoint that was down do not all come back at the same second). After `MAX_ATTEMPTS` (16:
  15 to 30 hours after the first, depending on the draws) it is `failed`; the partner can
  replay it.
- An endpoint that has failed every attempt for `DISABLE_AFTER` (5 days: no 2xx since) is
  disabled; its pending deliveries are cancelled, and the partner re-enables it
  (updateWebhookEndpoint) and replays what it missed.

Any 2xx answer is a success; anything else (3xx included: redirects are not followed), a
timeout or a refused connection is a failure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

FIRST_WAIT = timedelta(seconds=10)
LONGEST_WAIT = timedelta(hours=6)
MAX_ATTEMPTS = 16
DISABLE_AFTER = timedelta(days=5)


def retry_wait(attempts: int, draw: float) -> timedelta | None:
    """How long to wait after the `attempts`-th failed try, `draw` in [0, 1) (random); None
    once the delivery has used its attempts."""
    if attempts >= MAX_ATTEMPTS:
        return None
    full = min(FIRST_WAIT * 2 ** (attempts - 1), LONGEST_WAIT)
    return full * (0.5 + draw / 2)


def should_disable(failing_since: datetime | None, now: datetime) -> bool:
    return failing_since is not None and now - failing_since >= DISABLE_AFTER


def is_success(status: int | None) -> bool:
    return status is not None and 200 <= status < 300
