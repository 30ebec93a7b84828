"""The send pacer of every worker: one Redis key per provider sender, so all processes together keep to the
provider's documented rate.

- Twilio: a sender's throughput (a long code: 1 message segment per second; toll-free and short codes more)
  is set as TWILIO_RATE_PER_SECOND; what exceeds it queues at Twilio and can expire there (up to 4 hours),
  and the REST API answers 429 (error 20429) to too many concurrent requests.
  https://help.twilio.com/articles/115002943027 , https://www.twilio.com/docs/api/errors/20429
- WhatsApp Cloud API: 80 messages per second per business phone number by default (WHATSAPP_RATE_PER_SECOND);
  above it error 130429. https://developers.facebook.com/docs/whatsapp/throughput

The script hands out send slots `1/rate` apart: the slot is max(now, the next free slot); the caller sleeps
until its slot. A slot further away than `max_wait` is not taken and the send is retried later by the outbox
(TransientSendError), rather than holding a worker. Redis down: sends go unpaced (the provider's 429 is still
handled as a transient error).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError

from app.messaging.channels import TransientSendError

log = logging.getLogger(__name__)

# KEYS[1] the sender's key; ARGV now, interval, max_wait, ttl. Returns the wait in seconds (string), or -1.
RESERVE = """
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local now, interval, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local slot = math.max(now, nxt)
if slot - now > max_wait then return '-1' end
redis.call('SET', KEYS[1], tostring(slot + interval), 'EX', tonumber(ARGV[4]))
return tostring(slot - now)
"""


class SendPacer:
    def __init__(
        self,
        redis: Redis,
        *,
        max_wait: float = 5.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._redis = redis
        self._reserve = redis.register_script(RESERVE)
        self._max_wait, self._clock, self._sleep = max_wait, clock, sleep

    def wait_turn(self, sender: str, rate_per_second: float) -> float:
        """Sleep until this sender may send again; returns the seconds waited."""
        if rate_per_second <= 0:
            return 0.0
        try:
            wait = float(
                self._reserve(
                    keys=[f"pace:{sender}"],
                    args=[repr(self._clock()), repr(1.0 / rate_per_second), repr(self._max_wait), 60],
                )
            )
        except RedisError as exc:
            log.info("messaging.pace_unavailable", extra={"reason": type(exc).__name__})
            return 0.0
        if wait < 0:
            raise TransientSendError("paced: the sender's rate is booked beyond the wait limit")
        if wait > 0:
            self._sleep(wait)
        return wait
