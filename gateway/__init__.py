"""One GraphQL graph over the Sequence and Gofilex Genie APIs."""

__version__ = "0.1.0"
