"""Normalisers for signed vendor webhooks: one module per sender."""
