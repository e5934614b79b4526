"""Vocabulary for generated Sequence data: titles, licensors, people, tags."""

from __future__ import annotations

import random

LICENSORS = (
    "Warner",
    "Miramax",
    "Universal",
    "Sony Pictures",
    "Paramount",
    "Lionsgate",
    "StudioCanal",
    "eOne",
    "A24",
    "BBC Studios",
    "HBO",
    "Disney",
    "Gaumont",
    "Constantin Film",
)

TEMPLATE_WEIGHTS = ("Feature Film",) * 4 + ("Episode",) * 4 + ("Basic",) * 2 + ("Trailer", "Cinema Delivery")

TAGS = (
    "Drama",
    "Surreal",
    "Action",
    "Comedy",
    "Documentary",
    "Kids",
    "Thriller",
    "Crackle > CA",
    "Crackle > US",
    "Netflix > ES",
    "Rakuten > FR",
    "SVOD",
    "AVOD",
    "TVOD",
    "HD",
    "UHD",
    "Premium",
    "Catch-up",
)

OPERATORS = ("robot_user", "mgarcia", "jlopez", "asmith", "kwong", "pmartin", "lrossi", "ojohansson")

NOTES = (
    "Subtitles delivered late by the lab, chasing.",
    "Licensor confirmed the availability window.",
    "Artwork approved by marketing.",
    "Re-encode requested after QC: audio drift in reel 3.",
    "Title metadata updated from the licensor's sheet.",
    "Waiting for the textless version.",
    "Delivered to the platform, awaiting confirmation.",
)

PROBLEMS = (
    "Audio out of sync after 00:42:10",
    "Missing Spanish subtitles",
    "Artwork does not meet the platform's specs",
    "Master file failed checksum",
    "Rights window overlaps a previous licence",
    "Trailer not received from the licensor",
)

HOOK_EVENTS = ("job_completed", "job_late", "task_completed", "asset_received")

HOOK_URLS = (
    "https://hooks.example.com/sequence/jobs",
    "https://ops.example.org/webhooks/vod",
    "https://automation.example.net/sequence",
)

_FILMS = (
    "Mulholland Drive",
    "Lord of The Rings",
    "Ironman 2",
    "Last Night in Soho",
    "Belfast",
    "The Northern Light",
    "A Quiet Harbour",
    "Midnight Express Lane",
    "The Glass Orchard",
    "Paper Kingdoms",
    "Salt and Silver",
    "The Long Winter",
    "Echoes of Tangier",
    "Iron Meadow",
    "The Cartographer",
    "Blue Hour",
    "Small Gods of Lisbon",
    "The Last Lighthouse",
    "Wolf",
    "Crimson Tide Pool",
)

_SERIES = (
    "The Bureau",
    "Harbour Lights",
    "Night Shift",
    "The Crown Estate",
    "Cold Case Madrid",
    "Northern Line",
    "Little Inventors",
    "The Vineyard",
)


def title(rng: random.Random) -> str:
    """A film title, an episode, or a film's trailer."""
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(_SERIES) + f" S{rng.randint(1, 6):02d}E{rng.randint(1, 12):02d}"
    film = rng.choice(_FILMS)
    if roll < 0.55:
        return f"{film} (Trailer)"
    if roll < 0.65:
        return f"{film} {rng.randint(2, 4)}"
    return film
