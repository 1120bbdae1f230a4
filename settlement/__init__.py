"""Monthly settlement: clearing, netting, statements and payouts of the points network.

The pure domain (period, terms, clearing, netting, controls, hashing, computation) imports no
database or web code; `store`, `run`, `statements`, `payouts`, `cli` and `gql` sit at the edges.
"""
