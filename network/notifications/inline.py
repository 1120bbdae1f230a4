"""Draining right after a commit, in the background, so a code arrives without waiting for cron.

One worker thread per database at most: a kick while it runs asks for one more pass instead of
starting another thread, so a burst of sign-ins costs one drainer. Failures stay in the outbox
with their back-off, for the next kick or for `pointsnet notifications drain`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import weakref
from collections.abc import Callable

from network.clock import utcnow
from network.db.engine import Database
from network.notifications.config import NotificationSettings
from network.notifications.drain import drain
from network.notifications.senders import Sender, sender_from_settings

log = logging.getLogger("pointsnet.notifications")


class InlineDrainer:
    def __init__(self, db: Database, sender: Sender, *, max_attempts: int = 8,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db = db
        self.sender = sender
        self.max_attempts = max_attempts
        self.clock = clock
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    def kick(self) -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
        threading.Thread(target=self._work, name="pointsnet-drain", daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                drain(self.db, self.sender, self.clock, max_attempts=self.max_attempts)
            except Exception:  # noqa: BLE001 - a failed pass must not kill future kicks
                log.exception("inline notification drain failed")
            with self._lock:
                if not self._again:
                    self._running = False
                    return
                self._again = False


_drainers: weakref.WeakKeyDictionary[Database, InlineDrainer | None] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def drainer_for(db: Database, settings: NotificationSettings | None = None) -> InlineDrainer | None:
    """The process's drainer for `db`, or None when inline draining is switched off."""
    with _registry_lock:
        if db not in _drainers:
            config = settings or NotificationSettings.from_env()
            _drainers[db] = (InlineDrainer(db, sender_from_settings(config),
                                           max_attempts=config.max_attempts)
                             if config.inline_drain else None)
        return _drainers[db]


def kick(db: Database) -> None:
    drainer = drainer_for(db)
    if drainer is not None:
        drainer.kick()
