"""Redis keys of one store share a hash tag, so a Redis Cluster keeps them in one slot.

Redis Cluster hashes a key to one of 16384 slots by CRC16 of the key, or of the part between the first `{` and
the next `}` when that part is not empty (the hash tag): https://redis.io/docs/latest/operate/oss_and_stack/
reference/cluster-spec/#hash-tags. A script or a MULTI may only touch keys of one slot, so every key a store's
work builds carries `{store:<id>}` (`store_tag`), and a script call passes keys of one store only
(tests/platform/test_redis_slots.py checks the calls the app makes). Keys of no store (the inbox kick, the
storefront's invalidation log, the providers' pacers, RQ's own) hash by their whole name.
"""

from __future__ import annotations

SLOTS = 16384


def store_tag(store_id: int) -> str:
    """`{store:<id>}`: put it in every key of a store's work."""
    return f"{{store:{int(store_id)}}}"


def _crc16(data: bytes) -> int:
    """CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), the cluster spec's key hash."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def hash_part(key: str | bytes) -> bytes:
    """The part of the key a cluster hashes: its hash tag when it has a non-empty one, else all of it."""
    data = key.encode() if isinstance(key, str) else key
    start = data.find(b"{")
    if start != -1:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            return data[start + 1 : end]
    return data


def slot(key: str | bytes) -> int:
    """The Redis Cluster slot of a key (what `CLUSTER KEYSLOT` answers)."""
    return _crc16(hash_part(key)) % SLOTS
