"""Programme KPIs: daily rollups of the ledger (rollup.py, schema.py), refreshed by the worker's
`kpi-rollups` job, read for a period by the dashboards (queries.py), with the rates and the
campaign uplift as pure functions (measures.py) and charts as server-side SVG (charts.py)."""
