"""Outgoing messages to members (sign-in codes, security notices) via a transactional outbox.

A message is a row written in the same transaction as the fact it announces, so a code is never
sent for a request that rolled back and never lost for one that committed; a sender drains the
rows afterwards, at least once.
"""
