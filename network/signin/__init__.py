"""Passwordless sign-in, shared by every page and API that people sign in to: addresses (a phone
or an email, read as typed), one-time codes, sessions (cookie and bearer), the API's bearer
authenticator, rate limits, and the device names the sessions list shows.

`service.SignIn` is the use cases (one transaction each); the other modules are its parts.
"""
