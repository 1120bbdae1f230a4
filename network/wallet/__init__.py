"""The member's unified wallet: passwordless sign-in, sessions, the wallet read model and pages."""
