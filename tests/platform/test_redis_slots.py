"""Redis keys of one store share a hash tag, and a script or a MULTI touches one Redis Cluster slot
(app/platform/redis_keys.py; https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/).

Every command the app sends is read off the wire (the connection's send_packed_command, which redis-py's
commands, its pipelines and Script objects, and platform/redis_scripts.py's own trips all go through), so a
script call is checked with the keys it really got."""

from __future__ import annotations

import pytest
from redis.connection import AbstractConnection
from redis.crc import key_slot

from app.extensions import db
from app.platform.queue import get_redis
from app.platform.redis_keys import slot, store_tag
from app.security import secret_box
from app.storefront import local_state
from app.stores.storefront_keys import ensure_keys
from tests.helpers import add_store

#: The one script that spans stores, by design: the storefront's sync (storefront/local_state.py) adds every
#: rate-limit counter the process holds, of any store, and reads the global invalidation log, in one trip per
#: 25 ms. On a Redis Cluster it would be one call per store's slot plus one for the log's: not done yet.
CROSS_SLOT_SCRIPTS = {local_state._SYNC.sha: "storefront.local_state._SYNC"}


def _commands(packed: bytes) -> list[list[bytes]]:
    """The RESP arrays of bulk strings in what was sent (one command, or a pipeline's several)."""
    out, i = [], 0
    while i < len(packed):
        assert packed[i : i + 1] == b"*", packed[i : i + 20]
        end = packed.index(b"\r\n", i)
        count, i = int(packed[i + 1 : end]), end + 2
        args = []
        for _ in range(count):
            end = packed.index(b"\r\n", i)
            length = int(packed[i + 1 : end])
            args.append(packed[end + 2 : end + 2 + length])
            i = end + 2 + length + 2
        out.append(args)
    return out


@pytest.fixture
def wire(monkeypatch):
    sent: list[list[bytes]] = []
    original = AbstractConnection.send_packed_command

    def spy(self, command, check_health=True):  # noqa: ANN001, ANN202  (reads what is sent; sends it unchanged)
        data = command if isinstance(command, bytes) else b"".join(bytes(part) for part in command)
        sent.extend(_commands(data))
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", spy)
    return sent


def _groups(sent: list[list[bytes]]) -> list[tuple[str, list[bytes]]]:
    """(what, keys) for every script call and every MULTI block."""
    groups: list[tuple[str, list[bytes]]] = []
    multi: list[bytes] | None = None
    for args in sent:
        name = args[0].upper()
        if name in (b"EVALSHA", b"EVAL"):
            numkeys = int(args[2])
            groups.append((args[1].decode(), list(args[3 : 3 + numkeys])))
        elif name == b"MULTI":
            multi = []
        elif name == b"EXEC" and multi is not None:
            groups.append(("MULTI", multi))
            multi = None
        elif multi is not None and len(args) > 1:
            multi.append(args[1])
    return groups


def test_slot_is_the_cluster_spec_hash():
    assert slot("123456789") == 0x31C3 % 16384  # the spec's CRC16 check value
    for key in ("foo", "{store:7}:x", "a{b}c", "a{}b{c}", "{}x", b"\xff{\xfe}"):
        assert slot(key) == key_slot(key.encode() if isinstance(key, str) else key)  # redis-py's own
    assert slot(f"x:{store_tag(7)}:y") == slot(f"z:{store_tag(7)}") != slot(f"z:{store_tag(8)}")


def test_every_script_and_transaction_the_app_runs_touches_one_slot(app, client, ctx, monkeypatch, wire):
    from app.loyalty.writeback_tasks import _queued_key as writeback_key
    from app.messaging.samples import take_test_slot
    from app.platform.locks import job_lock
    from app.reviews.reading import invalidate
    from app.stores.shopify_pacing import RedisPacer
    from connectors.shopify_pacing import ThrottleStatus

    store = add_store("woocommerce", "https://slots.example.com/")
    keys = ensure_keys(db.session, secret_box(), store)
    db.session.commit()
    monkeypatch.setitem(app.config, "STOREFRONT_SYNC_SECONDS", 0.0)
    headers = {"X-PPE-Store": keys.public_key, "Origin": "https://slots.example.com"}
    path = "/api/v1/products/p1/reviews/summary"
    assert client.get(path, headers=headers).status_code == 200  # computes, caches, syncs the counters
    local_state.forget(app)  # another process: no copy, so the next request reads the cache in the limits' trip
    assert client.get(path, headers=headers).status_code == 200
    invalidate(store.id, "p1")
    pacer = RedisPacer(get_redis(), max_wait=1.0, store_id=store.id)
    pacer.after("slots.myshopify.com", ThrottleStatus(maximum=2000.0, available=1900.0, restore_rate=100.0))
    pacer.before("slots.myshopify.com", 10.0)
    with job_lock(get_redis(), writeback_key(store.id), 5) as held:
        assert held
    take_test_slot(store)  # a MULTI: INCR and EXPIRE of one key

    groups = _groups(wire)
    assert {what for what, _ in groups} >= {"MULTI", local_state._SYNC.sha}
    assert sum(1 for what, _ in groups if what not in ("MULTI", *CROSS_SLOT_SCRIPTS)) >= 3  # MGET, pacer, lock
    tag = store_tag(store.id).encode()
    for what, group_keys in groups:
        if what in CROSS_SLOT_SCRIPTS:
            counters = group_keys[:-3]  # then the log, the global generation, the stats: no store's
            assert counters and all(tag in key for key in counters), group_keys
            continue
        assert len({slot(key) for key in group_keys}) == 1, (what, group_keys)
        assert all(tag in key for key in group_keys), (what, group_keys)
