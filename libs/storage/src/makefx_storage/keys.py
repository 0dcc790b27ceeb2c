"""Object keys: the seed's layout (`images/…`, `media/…`) plus staging, and the rule every key obeys.

A key is `/`-separated segments of `[A-Za-z0-9._-]` that never start with a dot, so no key
can be absolute, climb with `..`, carry a backslash or NUL, or collide with the
directory store's hidden sidecar and temporary files.
"""

from __future__ import annotations

import re

from makefx_storage.errors import InvalidKey

MAX_KEY_LENGTH = 1024
STAGING_PREFIX = "staging/"

_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_EXTENSION = re.compile(r"^[a-z0-9]{1,5}$")
_FILE_SUFFIX = re.compile(r"^\.[a-z0-9]{1,5}$")
_SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$")


def check_key(key: str) -> str:
    """Return `key` if it is a safe object key, else raise `InvalidKey` saying why."""
    if not isinstance(key, str) or not key:
        raise InvalidKey(str(key), "empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(key, f"longer than {MAX_KEY_LENGTH} characters")
    if "\x00" in key:
        raise InvalidKey(key, "contains NUL")
    if "\\" in key:
        raise InvalidKey(key, "contains a backslash")
    if key.startswith("/"):
        raise InvalidKey(key, "absolute")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey(key, "empty, '.' or '..' segment")
        if not _SEGMENT.match(segment):
            raise InvalidKey(key, f"segment {segment[:40]!r} has characters outside [A-Za-z0-9._-] or starts with '.'")
    return key


def check_prefix(prefix: str) -> str:
    """A listing prefix: empty, a whole key, or a key cut anywhere (`images/s1/` or `images/s1/v1`)."""
    if prefix == "":
        return prefix
    check_key(prefix.rstrip("/") or "/")
    return prefix


def _id(name: str, value: str) -> str:
    if not _ID.match(value):
        raise InvalidKey(str(value), f"{name} must be 1-128 characters of [A-Za-z0-9_-]")
    return value


def _extension(value: str) -> str:
    if not _EXTENSION.match(value):
        raise InvalidKey(str(value), "extension must be 1-5 characters of [a-z0-9]")
    return value


def image_key(space_id: str, variant_id: str, extension: str) -> str:
    """An image upload or generated image: `images/{spaceId}/{variantId}.{ext}` (the seed's legacy path)."""
    return f"images/{_id('spaceId', space_id)}/{_id('variantId', variant_id)}.{_extension(extension)}"


def thumb_key(space_id: str, variant_id: str) -> str:
    """An image's thumbnail: `images/{spaceId}/{variantId}_thumb.webp`."""
    return f"images/{_id('spaceId', space_id)}/{_id('variantId', variant_id)}_thumb.webp"


def media_key(space_id: str, variant_id: str, extension: str) -> str:
    """Audio or video: `media/{spaceId}/{variantId}.{ext}`."""
    return f"media/{_id('spaceId', space_id)}/{_id('variantId', variant_id)}.{_extension(extension)}"


def poster_key(space_id: str, variant_id: str) -> str:
    """A video's poster frame: `media/{spaceId}/{variantId}_poster.webp`."""
    return f"media/{_id('spaceId', space_id)}/{_id('variantId', variant_id)}_poster.webp"


def staging_key(space_id: str, variant_id: str) -> str:
    """Where a variant's bytes wait, unchecked, until the media service ingests them."""
    return f"{STAGING_PREFIX}{_id('spaceId', space_id)}/{_id('variantId', variant_id)}"


def is_staging_key(key: str) -> bool:
    return key.startswith(STAGING_PREFIX)


def variant_prefixes(space_id: str, variant_id: str) -> tuple[str, ...]:
    """Listing prefixes that cover every object of a variant (filter the listing with `belongs_to_variant`)."""
    space_id, variant_id = _id("spaceId", space_id), _id("variantId", variant_id)
    return (f"images/{space_id}/{variant_id}", f"media/{space_id}/{variant_id}", staging_key(space_id, variant_id))


def belongs_to_variant(key: str, space_id: str, variant_id: str) -> bool:
    """True for exactly this variant's objects: not those of a variant whose id merely starts the same."""
    space_id, variant_id = _id("spaceId", space_id), _id("variantId", variant_id)
    if key == staging_key(space_id, variant_id):
        return True
    stem = f"{space_id}/{variant_id}"
    for folder, derived in (("images/", "_thumb.webp"), ("media/", "_poster.webp")):
        if key.startswith(folder + stem):
            rest = key[len(folder) + len(stem) :]
            return rest == derived or bool(_FILE_SUFFIX.match(rest))
    return False
