"""The wallet's refusals: `WalletError`, which lives with the shared web parts
(network/web/errors.py) because sign-in raises it too and must not import the wallet."""

from network.web.errors import WalletError

__all__ = ["WalletError"]
