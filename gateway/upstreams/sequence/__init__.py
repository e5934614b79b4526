"""The Sequence API client: wire formats in, records out."""
