"""The member's unified wallet: the wallet read model, its use cases (contact, donations) and
pages. Sign-in is network/signin's."""
