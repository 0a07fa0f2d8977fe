"""Ingest: verify, validate, normalise, archive and enqueue everything senders post.

The handler in ``functions/ingest/app.py`` calls `intercept.ingest.service.handle`; the
submodules are imported where they are used so the function's cold start stays small.
"""
