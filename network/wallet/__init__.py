"""The member's unified wallet: the wallet read model, its use cases (contact, donations) and
pages. Sign-in is network/signin's; the layout, CSRF, cookies and i18n are network/web's."""
