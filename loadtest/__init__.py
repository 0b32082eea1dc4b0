"""The load test (``make loadtest``): many users submitting and polling generations
while a worker is killed and Redis restarted; afterwards the counts must reconcile."""
