"""The inbox's drain job goes to the front of the queue (inbox/ingest.kick_processing): behind a burst store's
follow-up jobs (review requests, balance pushes, sends) it would wait for all of them, and every other store's
webhooks with it (bench/README.md, "Fairness: the inbox's claim": a worker idle for the drain 56 s of a burst)."""

from __future__ import annotations


def test_the_drain_job_is_queued_before_the_jobs_already_waiting(app, ctx):
    from app.inbox.ingest import KICK_KEY, kick_processing
    from app.platform.queue import get_queue, get_redis

    queue = get_queue()
    for n in range(3):
        queue.enqueue("app.messaging.tasks.send_message", n)
    get_redis().delete(KICK_KEY)
    assert kick_processing()
    jobs = queue.get_jobs()
    assert [job.func_name for job in jobs][:2] == ["app.inbox.tasks.process_inbox", "app.messaging.tasks.send_message"]
    assert len(jobs) == 4
