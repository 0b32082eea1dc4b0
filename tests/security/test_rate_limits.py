"""Rate limits on django-ratelimit and the shared cache: provenance verification per
key and per IP, a decoded-pixel cap, strikes tightening the generation limit, and the
pooled Redis client's round trips per check."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from tests.security.conftest import error_code


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def _png(side: int = 64) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), "white").save(buffer, "PNG")
    return SimpleUploadedFile("x.png", buffer.getvalue(), "image/png")


@override_settings(PROVENANCE_VERIFY_PER_PRINCIPAL=3, PROVENANCE_VERIFY_PER_IP=100)
def test_provenance_verify_is_limited_per_key(subscriber, other_subscriber, key_for) -> None:
    first = key_for(subscriber, ["read"])
    statuses = [
        first.post("/api/v1/provenance/verify", {"image": _png()}).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    refused = first.post("/api/v1/provenance/verify", {"image": _png()})
    assert error_code(refused) == "rate_limited"
    assert int(refused["Retry-After"]) >= 1
    # Another key of another account has its own bucket.
    second = key_for(other_subscriber, ["read"])
    assert second.post("/api/v1/provenance/verify", {"image": _png()}).status_code == 200


@override_settings(PROVENANCE_VERIFY_PER_PRINCIPAL=100, PROVENANCE_VERIFY_PER_IP=3)
def test_provenance_verify_is_limited_per_ip(subscriber, other_subscriber, key_for) -> None:
    clients = [key_for(user, ["read"]) for user in (subscriber, other_subscriber)]
    statuses = [
        clients[n % 2]
        .post("/api/v1/provenance/verify", {"image": _png()}, REMOTE_ADDR="192.0.2.5")
        .status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    other_ip = clients[0].post(
        "/api/v1/provenance/verify", {"image": _png()}, REMOTE_ADDR="192.0.2.6"
    )
    assert other_ip.status_code == 200


def test_provenance_verify_refuses_more_pixels_than_configured(subscriber, key_for) -> None:
    client = key_for(subscriber, ["read"])
    with override_settings(PROVENANCE_VERIFY_MAX_PIXELS=100 * 100):
        refused = client.post("/api/v1/provenance/verify", {"image": _png(101)})
        assert refused.status_code == 400
        assert "exceeds 10000 pixels" in json.dumps(refused.json())
        assert client.post("/api/v1/provenance/verify", {"image": _png(100)}).status_code == 200


def test_the_default_pixel_cap_is_well_below_40_megapixels() -> None:
    from django.conf import settings

    assert settings.PROVENANCE_VERIFY_MAX_PIXELS <= 10_000_000


def _submit(client):
    body = {"prompt": "a lighthouse at dawn", "width": 512, "height": 512, "steps": 4}
    return client.post("/api/v1/generations", json.dumps(body), content_type="application/json")


@override_settings(GENERATION_RATE_PER_MINUTE_WITH_STRIKES=2)
def test_an_active_strike_tightens_the_generation_limit(subscriber, session_for) -> None:
    from moderation.models import Strike

    Strike.objects.create(user=subscriber, category="hate", severity=1)
    client = session_for(subscriber)
    statuses = [_submit(client).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    refused = _submit(client)
    assert "At most 2 generation requests a minute." in refused.json()["error"]["message"]


def test_without_strikes_the_plan_limit_applies(subscriber, session_for) -> None:
    from moderation.models import Strike

    revoked = Strike.objects.create(user=subscriber, category="hate", severity=3)
    revoked.revoked_at = revoked.created_at
    revoked.save()
    client = session_for(subscriber)
    statuses = [_submit(client).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 202]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the shared Redis")
def test_a_rate_limit_check_costs_two_redis_round_trips_on_one_client() -> None:
    from redis.connection import Connection

    from core.cache import PooledRedisCache

    redis_cache = PooledRedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "sec-test"})
    sent: list[bytes] = []
    original = Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command if isinstance(command, bytes) else b"".join(command))
        return original(self, command, check_health)

    key = redis_cache.make_key("counter")
    redis_cache.delete("counter")
    redis_cache.add("counter", 1, 60)
    redis_cache.incr("counter")  # loads the script once
    Connection.send_packed_command = counting  # type: ignore[method-assign]
    try:
        assert redis_cache.add("counter", 1, 60) is False
        assert redis_cache.incr("counter") == 3
    finally:
        Connection.send_packed_command = original  # type: ignore[method-assign]
        redis_cache.delete("counter")
    assert len(sent) == 2, sent  # SET NX, then one EVALSHA (not EXISTS + INCRBY)
    assert b"EVALSHA" in sent[1]
    with pytest.raises(ValueError):
        redis_cache.incr("never-set")
    client = redis_cache._cache.get_client(key, write=True)
    assert client is redis_cache._cache.get_client(key, write=True)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the shared Redis")
def test_a_rate_limit_check_on_redis_is_one_round_trip_and_refuses_past_the_limit(
    settings,
) -> None:
    from django.core.cache import caches
    from redis.connection import Connection

    from core.ratelimit import rate_limit_hit

    settings.CACHES = {
        **settings.CACHES,
        "ratelimit-redis": {
            "BACKEND": "core.cache.PooledRedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "sec-test-one-trip",
        },
    }
    settings.RATELIMIT_USE_CACHE = "ratelimit-redis"
    redis_cache: Any = caches["ratelimit-redis"]
    client = redis_cache._cache.get_client(write=True)

    def forget() -> None:  # only this test's keys: the Redis may be shared
        for stale in client.keys("sec-test-one-trip:*"):
            client.delete(stale)

    forget()
    sent: list[bytes] = []
    original = Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command if isinstance(command, bytes) else b"".join(command))
        return original(self, command, check_health)

    rate_limit_hit(key="warm", limit=5, window_seconds=60, group="t")  # loads the script
    Connection.send_packed_command = counting  # type: ignore[method-assign]
    try:
        results = [
            rate_limit_hit(key="user-1", limit=3, window_seconds=60, group="t") for _ in range(5)
        ]
    finally:
        Connection.send_packed_command = original  # type: ignore[method-assign]
    try:
        assert [r.allowed for r in results] == [True, True, True, False, False]
        assert all(1 <= r.retry_after <= 61 for r in results)
        assert len(sent) == 5, sent  # one EVALSHA a check: no SET NX, no EXISTS + INCRBY
        assert all(b"EVALSHA" in command for command in sent)
        # The counter is django-ratelimit's (same key), and it expires with its window.
        keys = client.keys("sec-test-one-trip:*")
        assert len(keys) == 2  # "warm" and "user-1"
        assert all(0 < client.ttl(k) <= 65 for k in keys)
        # Another key has its own window.
        assert rate_limit_hit(key="user-2", limit=3, window_seconds=60, group="t").allowed
    finally:
        forget()
