"""Generated Digital Cinema Packages, named and laid out like the seed's.

A DCP name follows the Digital Cinema Naming Convention, as in the seed's
"Wolf_TLR-A_S_EN-XX_INT-TD_51_2K_FF_20211018_DTB_SMPTE_OV"; asset paths and
the order of assets copy the seed's two trailers.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gateway.simulators.gofilex.model import Asset, Dcp
from gateway.simulators.gofilex.names import FACILITIES, ID_ALPHABET, ID_LENGTH, Distributor, Territory, title_token

GB = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ContentKind:
    code: str  # the DCNC content type field
    picture_bytes: tuple[int, int]
    seconds: tuple[int, int]
    reels: tuple[int, int]


# Feature DCPs run to hundreds of GB (the seed's failed feature is 286 GB),
# trailers to one to three (the seed's are 1.8 and 2.9 GB).
CONTENT_KINDS: Mapping[str, ContentKind] = MappingProxyType(
    {
        "feature": ContentKind("FTR", (80 * GB, 340 * GB), (5_400, 9_000), (5, 8)),
        "trailer": ContentKind("TLR", (900_000_000, 2_550_000_000), (100, 180), (1, 1)),
        "teaser": ContentKind("TSR", (400_000_000, 1 * GB), (45, 90), (1, 1)),
        "advertisement": ContentKind("ADV", (150_000_000, 700_000_000), (20, 60), (1, 1)),
        "short": ContentKind("SHR", (5 * GB, 30 * GB), (300, 1_500), (1, 2)),
    }
)


def meteor_id(rng: random.Random) -> str:
    """A 17-character id like Meteor's Random.id()."""
    return "".join(rng.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _sha1_base64(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(20)).decode("ascii")


def make_dcp(
    rng: random.Random,
    *,
    kind: str,
    title: str,
    distributor: Distributor,
    territory: Territory,
    mastered: dt.date,
    serial: int,
) -> Dcp:
    spec = CONTENT_KINDS[kind]
    smpte = rng.random() < 0.8
    resolution = "4K" if kind == "feature" and rng.random() < 0.25 else "2K"
    aspect = rng.choice("FS")
    audio = rng.choice(("51", "51", "71", "51-ATMOS") if kind == "feature" else ("51", "51", "71"))
    name = "_".join(
        (
            title_token(title),
            _version(rng, spec.code),
            aspect,
            f"{territory.audio_language}-{territory.subtitle_language}",
            territory.code,
            audio,
            resolution,
            distributor.studio,
            mastered.strftime("%Y%m%d"),
            rng.choice(FACILITIES),
            "SMPTE" if smpte else "IOP",
            "OV" if rng.random() < 0.85 else "VF",
        )
    )
    package_uuid = random_uuid(rng)
    # Features travel encrypted (they need KDMs); trailers and ads do not.
    prefix = f"{serial}_{title_token(title)}_{'smpte' if smpte else 'iop'}_{'enc' if kind == 'feature' else 'unenc'}"
    reels = rng.randint(*spec.reels)
    seconds = rng.randint(*spec.seconds)
    channels = 16 if audio != "51" else 8
    assets = []
    for reel, picture in enumerate(_split(rng, rng.randint(*spec.picture_bytes), reels), start=1):
        picture_uuid = random_uuid(rng)
        picture_path = f"{prefix}_{picture_uuid[:8]}_{resolution}_{aspect}_R{reel:03d}_pic.mxf"
        assets.append(_asset(rng, picture_uuid, "picture", picture, picture_path))
        # 24-bit 48 kHz PCM per channel.
        sound = seconds * channels * 144_000 // reels + rng.randint(0, 4_000)
        assets.append(_asset(rng, random_uuid(rng), "sound", sound, f"{prefix}_R{reel:03d}_snd.mxf"))
    cpl_uuid, pkl_uuid = random_uuid(rng), random_uuid(rng)
    assets.append(_asset(rng, cpl_uuid, "composition-playlist", 12_401 + 5_873 * (reels - 1), f"CPL_{cpl_uuid}.xml"))
    assets.append(_asset(rng, pkl_uuid, "packing-list", 11_780 + 1_012 * (reels - 1), f"PKL_{pkl_uuid}.xml"))
    # The seed lists assets by uuid, with the asset map (whose uuid is the
    # package's) last; Interop names the asset map file without an extension.
    assets.sort(key=lambda asset: asset.uuid)
    asset_map_size = 1_790 + rng.randint(0, 20) + 290 * (reels - 1)
    assets.append(_asset(rng, package_uuid, "asset-map", asset_map_size, "ASSETMAP.xml" if smpte else "ASSETMAP"))
    # inferred: the documented standard is "SMPTE"; "Interop" is our spelling of the other.
    return Dcp(package_uuid, name, kind, "SMPTE" if smpte else "Interop", tuple(assets))


def _version(rng: random.Random, code: str) -> str:
    if code in ("TLR", "TSR"):
        return f"{code}-{rng.choice('12A')}"
    return code if rng.random() < 0.7 else f"{code}-2"


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """`total` bytes in `parts` reels of similar length."""
    weights = [rng.uniform(0.8, 1.2) for _ in range(parts)]
    sizes = [int(total * weight / sum(weights)) for weight in weights]
    sizes[-1] += total - sum(sizes)
    return sizes


def _asset(rng: random.Random, asset_uuid: str, role: str, size: int, path: str) -> Asset:
    return Asset(asset_uuid, _sha1_base64(rng), role, size, path)
