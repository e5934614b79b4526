"""The Gofilex Genie portal client: JSON in, records out."""
