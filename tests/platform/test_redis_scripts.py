"""app/platform/redis_scripts.py: scripts on the thread's own connection, loaded when the server does not know them."""

from __future__ import annotations

import pytest

from app.platform import redis_scripts
from app.platform.queue import get_redis
from app.platform.redis_scripts import Script


@pytest.fixture(autouse=True)
def own_connection():
    """These tests flush the server's scripts behind the thread's connection (which then still believes it
    knows them, as it would not after a restart): the connection is forgotten after each."""
    yield
    redis_scripts._own.__dict__.clear()


SET = Script("redis.call('SET', KEYS[1], ARGV[1]) return ARGV[1]")
GET = Script("return redis.call('GET', KEYS[1])")


def test_scripts_the_server_forgot_are_loaded_again(ctx):
    redis = get_redis()
    assert redis_scripts.run(redis, GET, ["t:a"], []) is None  # unknown to a new server: loaded, then run
    assert redis_scripts.run(redis, SET, ["t:a"], ["first"]) == b"first"
    redis.script_flush()  # as after a restart: the thread's connection still sends EVALSHA
    assert redis_scripts.run(redis, SET, ["t:a"], ["again"]) == b"again"  # NOSCRIPT: loaded, run once
    assert redis_scripts.run(redis, GET, ["t:a"], []) == b"again"
    assert redis.script_exists(SET.sha, GET.sha) == [True, True]


def test_a_script_that_answers_nil_runs_once(ctx):
    redis = get_redis()
    bump_quietly = Script("redis.call('INCR', KEYS[1]) return nil")
    assert redis_scripts.run(redis, bump_quietly, ["t:n"], []) is None  # unknown to the server: loaded, run
    assert redis_scripts.run(redis, bump_quietly, ["t:n"], []) is None  # known: run as it is
    assert redis.get("t:n") == b"2"  # each call ran it once (a nil reply is an answer, not a NOSCRIPT)
