"""The programme: what makes the network a customer club. For now its tiers (network/programme/
tiers.py, pure rules over data; tier_facts.py reads the facts they need from the ledger)."""
