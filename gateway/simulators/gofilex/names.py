"""Name pools for generated Gofilex data: distributors, cinemas, titles, territories.

Titles and brands are fictional; distributors and cinema chains are real
names so that generated orders read like the portal's. Each portal draws from
its own region's pools (the portals are regional, gofilex.md §1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# Meteor's Random.id() alphabet: no 0/1/I/O/l/V/U look-alikes (gofilex.md §1 ids).
ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
ID_LENGTH = 17


@dataclass(frozen=True, slots=True)
class Distributor:
    name: str
    # The studio field of a Digital Cinema Naming Convention name, e.g. "FF" in
    # the seed's "Wolf_TLR-A_..._2K_FF_20211018_DTB_SMPTE_OV".
    studio: str


@dataclass(frozen=True, slots=True)
class Territory:
    # DCNC territory code (the naming convention writes "UK", not "GB").
    code: str
    # ISO 3166 alpha-3, as in the seed's order label "..._EN-CAN".
    country: str
    audio_language: str
    subtitle_language: str  # "XX" when there are no subtitles


_GLOBAL_DISTRIBUTORS = (
    Distributor("Universal Pictures International", "UP"),
    Distributor("Focus Features", "FF"),
    Distributor("Warner Bros. Pictures", "WR"),
    Distributor("Sony Pictures Releasing", "SPE"),
    Distributor("The Walt Disney Company", "DI"),
    Distributor("Paramount Pictures", "PAR"),
    Distributor("Lionsgate", "LG"),
)

# The pools are read-only (MappingProxyType, tuples): no module-level mutable state.
DISTRIBUTORS: Mapping[str, tuple[Distributor, ...]] = MappingProxyType(
    {
        "EMEA": (
            *_GLOBAL_DISTRIBUTORS,
            Distributor("StudioCanal", "SC"),
            Distributor("Pathé Films", "PTH"),
            Distributor("Gaumont", "GAU"),
            Distributor("Constantin Film", "CF"),
            Distributor("Cinéart", "CA"),
        ),
        "APAC": (
            *_GLOBAL_DISTRIBUTORS,
            Distributor("Roadshow Films", "RS"),
            Distributor("Madman Entertainment", "MAD"),
            Distributor("Toho", "TOH"),
            Distributor("CJ ENM", "CJ"),
        ),
        # inferred: MPS (Motion Picture Solutions) serves the UK and Ireland.
        "MPS": (
            *_GLOBAL_DISTRIBUTORS,
            Distributor("StudioCanal UK", "SC"),
            Distributor("Altitude Film Distribution", "ALT"),
            Distributor("Curzon Film", "CUR"),
            Distributor("Entertainment Film Distributors", "EFD"),
        ),
        "NORAM": (
            *_GLOBAL_DISTRIBUTORS,
            Distributor("A24", "A24"),
            Distributor("Neon", "NEO"),
            Distributor("Searchlight Pictures", "SL"),
            Distributor("Elevation Pictures", "ELV"),
        ),
    }
)

CINEMAS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "EMEA": (
            "Pathé Tuschinski",
            "Kinepolis Antwerpen",
            "Kinepolis Madrid Ciudad de la Imagen",
            "UGC Ciné Cité Les Halles",
            "CineStar Berlin Sony Center",
            "Cinemaxx Hamburg Dammtor",
            "Vue Amsterdam",
            "Yelmo Cines Ideal",
            "The Space Cinema Odeon Milano",
            "Filmstaden Scandinavia",
            "Cinema City Arena Budapest",
            "Kinepolis Brugge",
            "Pathé Arena",
            "MK2 Bibliothèque",
        ),
        "APAC": (
            "Event Cinemas George Street",
            "Hoyts Entertainment Quarter",
            "Palace Norton Street",
            "Reading Cinemas Auburn",
            "TOHO Cinemas Shinjuku",
            "CGV Yongsan I'Park Mall",
            "Golden Village VivoCity",
            "Embassy Theatre Wellington",
            "Village Cinemas Crown",
            "Dendy Newtown",
            "Lotte Cinema World Tower",
        ),
        "MPS": (
            "Curzon Soho",
            "Everyman Hampstead",
            "Picturehouse Central",
            "Light House Cinema Dublin",
            "Omniplex Cork",
            "Showcase Bluewater",
            "Vue Leicester Square",
            "Odeon Luxe Manchester",
            "Cineworld Glasgow Renfrew Street",
            "Merlin Cinemas Penzance",
            "Irish Film Institute",
            "Broadway Nottingham",
        ),
        "NORAM": (
            "AMC Lincoln Square 13",
            "Regal Union Square",
            "Cinemark Tinseltown",
            "Alamo Drafthouse Brooklyn",
            "Angelika Film Center",
            "Cineplex Scotiabank Theatre Toronto",
            "Landmark Westwood",
            "Marcus Majestic Cinema",
            "Harkins Camelview",
            "Cinéma Beaubien",
            "Cineplex Odeon International Village",
            "Metrograph",
        ),
    }
)

TERRITORIES: Mapping[str, tuple[Territory, ...]] = MappingProxyType(
    {
        "EMEA": (
            Territory("UK", "GBR", "EN", "XX"),
            Territory("FR", "FRA", "FR", "XX"),
            Territory("DE", "DEU", "DE", "XX"),
            Territory("NL", "NLD", "EN", "NL"),
            Territory("BE", "BEL", "FR", "NL"),
            Territory("ES", "ESP", "ES", "XX"),
            Territory("IT", "ITA", "IT", "XX"),
            Territory("SE", "SWE", "EN", "SV"),
        ),
        "APAC": (
            Territory("AU", "AUS", "EN", "XX"),
            Territory("NZ", "NZL", "EN", "XX"),
            Territory("JP", "JPN", "EN", "JA"),
            Territory("KR", "KOR", "EN", "KO"),
            Territory("SG", "SGP", "EN", "ZH"),
        ),
        "MPS": (
            Territory("UK", "GBR", "EN", "XX"),
            Territory("IE", "IRL", "EN", "XX"),
        ),
        "NORAM": (
            Territory("US", "USA", "EN", "XX"),
            Territory("CA", "CAN", "EN", "XX"),
            Territory("CA", "CAN", "FR", "XX"),
        ),
    }
)

FEATURE_TITLES = (
    "The Long Harbour",
    "Northern Lights",
    "Glass Orchard",
    "Salt and Cinder",
    "Paper Moons",
    "The Quiet Tide",
    "Iron Meadow",
    "Last Train to Vigo",
    "Midnight Atlas",
    "Seven Winters",
    "The Lantern Keeper",
    "Echo Valley",
    "Copper Sky",
    "The Night Ferry",
    "Wild Clover",
    "Stormwatch",
    "A Map of Rivers",
    "The Ninth Guest",
    "Foxglove",
    "Kingfisher",
    "Red Meridian",
    "Quiet Harvest",
    "Hollow Bay",
    "The Winter Road",
)

BRANDS = ("Velora", "Lumo Cola", "Kestrel Air", "Nordbank", "Brightwell", "Orla Mobile", "Tidewater Tea")

# DCNC facility codes of the mastering labs (the seed's is "DTB").
FACILITIES = ("DTB", "DLX", "IMG", "CPX", "EKN")


def title_token(title: str) -> str:
    """The title field of a DCNC name: CamelCase, at most 14 characters."""
    words = "".join(ch if ch.isalnum() else " " for ch in title).split()
    return "".join(word[:1].upper() + word[1:] for word in words)[:14]


def label_token(title: str) -> str:
    """A title as Gofilex writes it in order labels: "LAST-NIGHT-IN-SOHO"."""
    words = "".join(ch if ch.isalnum() else " " for ch in title).split()
    return "-".join(words).upper()
