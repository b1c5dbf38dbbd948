"""`make bench`: the portal's performance at partner-network scale (issue 9).

Not part of the test suite: `python -m bench` seeds two databases (a small one and a large
one), serves the portal from them as production does, loads it, runs the collections sweep,
the PDF letters and a reconciliation import, and writes bench/results.json and
bench/RESULTS.md. See bench/__main__.py."""
