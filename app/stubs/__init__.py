"""Stand-ins for the outside systems the service talks to, for demos and tests.

Never deployed: each runs on its own (``python -m app.stubs.NAME``).
"""
