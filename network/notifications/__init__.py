"""Outgoing messages to members via a transactional outbox: sign-in codes and security notices,
and the lifecycle messages (messages.py, lifecycle.py) that members' preferences govern
(preferences.py: one `may_send` decision, asked when queueing and again when sending).

A message is a row written in the same transaction as the fact it announces, so a code is never
sent for a request that rolled back and never lost for one that committed; a sender drains the
rows afterwards, at least once.
"""
