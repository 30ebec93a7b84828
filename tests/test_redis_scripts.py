"""app/redis_scripts.py: scripts on the thread's own connection; `send` leaves its reply for the next `run`."""

from __future__ import annotations

import pytest

from app import redis_scripts
from app.queue import get_redis
from app.redis_scripts import Script


@pytest.fixture(autouse=True)
def own_connection():
    """These tests flush the server's scripts behind the thread's connection (which then still believes it
    knows them, as it would not after a restart): the connection is forgotten after each."""
    yield
    redis_scripts._own.__dict__.clear()


SET = Script("redis.call('SET', KEYS[1], ARGV[1]) return ARGV[1]")
GET = Script("return redis.call('GET', KEYS[1])")


def test_run_reads_the_replies_send_left_before_its_own(ctx):
    redis = get_redis()
    redis_scripts.send(redis, SET, ["t:a"], [b"1"])  # the first time on this connection: waits for its reply
    redis_scripts.send(redis, SET, ["t:b"], ["2"])
    assert redis_scripts.run(redis, GET, ["t:a"], []) == b"1"  # its own reply, not the first unread one
    assert redis_scripts.run(redis, GET, ["t:b"], []) == b"2"
    assert redis.get("t:a") == b"1"


def test_scripts_the_server_forgot_are_loaded_again(ctx):
    redis = get_redis()
    assert redis_scripts.run(redis, GET, ["t:a"], []) is None
    redis_scripts.send(redis, SET, ["t:a"], ["first"])  # the connection has seen SET run
    redis.script_flush()
    redis_scripts.send(redis, SET, ["t:a"], ["lost"])  # NOSCRIPT: this write is lost, the script loaded after
    assert redis_scripts.run(redis, GET, ["t:a"], []) == b"first"  # GET itself reloaded and run again
    assert redis.script_exists(SET.sha, GET.sha) == [True, True]
    redis_scripts.send(redis, SET, ["t:a"], ["kept"])
    redis_scripts.settle(redis)
    assert redis.get("t:a") == b"kept"


def test_a_script_that_answers_nil_runs_once(ctx):
    redis = get_redis()
    bump_quietly = Script("redis.call('INCR', KEYS[1]) return nil")
    assert redis_scripts.run(redis, bump_quietly, ["t:n"], []) is None  # unknown to the server: loaded, run
    assert redis_scripts.run(redis, bump_quietly, ["t:n"], []) is None  # known: run as it is
    assert redis.get("t:n") == b"2"  # each call ran it once (a nil reply is an answer, not a NOSCRIPT)
