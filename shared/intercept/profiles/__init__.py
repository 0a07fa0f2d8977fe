"""Profiles: one live profile per person and per account, built from canonical events.

- `rules`: what may identify someone, free-mail and shared-mailbox lists, trait priorities
- `keys`: every key of the profiles table (the design is in docs/data-model.md)
- `identity`: the identity graph; resolves, merges and attaches per event
- `traits`: trait precedence (source priority, then recency) with provenance
- `activity`: per-account daily aggregates
- `fold`: folding a batch exactly once in effect; `consumer`: the SQS side of it
- `merge`: merges, their follow-up steps, and unmerge
- `store`: data access, including the reads the scoring stage uses
- `views`, `privacy`: reading, exporting and deleting a person or an account
- `verify`: snapshots, sample streams and harnesses for tests and benchmarks (not imported
  by the handlers)
"""
