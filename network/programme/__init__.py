"""The programme: what makes the network a customer club. Pure rules over plain values, with
the database at the edges: facts (facts.py), campaigns (campaigns.py) and their validation
(validation.py), the campaign index with compiled conditions (index.py, matching.py), evaluation
of a fact into explained effects (rules.py), splitting an effect between funders (funding.py);
tiers (tiers.py, with tier_facts.py reading what they need from the ledger)."""
