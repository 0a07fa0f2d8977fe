"""The packaged churn model: artifact, card and checksum (data, no code)."""
