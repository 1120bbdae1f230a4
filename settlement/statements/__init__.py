"""Per-party statements of a settlement run: CSV for machines, HTML for accountants, both
signed with the hub's Ed25519 statement key (detached signatures)."""
