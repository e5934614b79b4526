"""Faithful stand-ins for the Sequence and Gofilex Genie APIs.

Everything the gateway does is built, tested and benchmarked against these
servers, so they follow the documented contracts (../shared/seeds and
../shared/upstreams) quirks included. Where a contract is silent they make an
inference and say so in a comment.
"""
