"""Web parts every page the hub serves to people uses, whoever signs in (members on the wallet,
staff and partner users on the coming back office): rendering with the shared layout and the
security headers (rendering.py, templates/), CSRF (csrf.py), cookies (cookies.py), the shared
static files (assets.py, static/), English and Persian (i18n.py, messages_en.py,
messages_fa.py), and the refusal pages and member APIs word (errors.py)."""
