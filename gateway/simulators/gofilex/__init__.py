"""A simulator of the Gofilex Genie portal API (`jobs/by/order`, `orders/status`).

Modules: `data` generates the orders (from `names` and `packages`) into the
frozen `model`; `wire` renders them as Gofilex's JSON; `app` serves the four
regional portals under path prefixes.
"""
