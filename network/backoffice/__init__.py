"""The back office: staff and partner users, their sign-in (password + TOTP), sessions, roles,
and the layout every back-office page shares (the operator's console, the partner portal, the
finance pages). Pages themselves live with the domain they show; this package only says who is
signed in and whether they may see a page.
"""
