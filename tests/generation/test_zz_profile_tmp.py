import cProfile, pstats, io
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from accounts.services import api_key_create
from benchmarks.counts import RedisCounter
from django.test import Client
pytestmark = pytest.mark.django_db

def test_profile(subscriber):
    raw = api_key_create(user=subscriber, name="t", scopes=["read", "generate"]).raw_key
    c = Client()
    def post(p):
        return c.post("/api/v1/generations", data={"prompt": p, "width": 256, "height": 256, "steps": 4}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    post("warm one"); post("warm two")
    counter = RedisCounter()
    with CaptureQueriesContext(connection) as q, counter.counting():
        r = post("a watercolour lighthouse at dawn")
    assert r.status_code == 202
    for x in q.captured_queries:
        print("SQL", x["sql"][:230])
    print("REDIS", counter.round_trips, dict(counter.commands))
    pr = cProfile.Profile()
    pr.enable()
    for i in range(40):
        post(f"a watercolour lighthouse at dawn number {i}")
    pr.disable()
    s = io.StringIO()
    st=pstats.Stats(pr, stream=s); st.sort_stats("tottime").print_stats(35); st.sort_stats("cumulative").print_stats("middleware|metrics|logging|http.py|signals|dispatcher",25)
    print(s.getvalue())
