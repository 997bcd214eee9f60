"""``make bench``: the HTTP benchmark of the customer API against a bare floor app.

``python -m bench.http`` runs it (``scripts/bench.sh`` prepares the machine first);
``docs/performance.md`` explains the knobs and how to read the table.
"""
