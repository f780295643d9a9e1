"""The product app as production serves it, with rate limiting switched off for the benchmark.

gunicorn imports this in every worker, so the secret key comes from the environment (one key for all workers).
One extra route, /bench/stack-floor, returns the floor's fixed JSON through the product's own stack (security
headers, CSRF check, rate-limit hooks): the difference between it and the bare floor is the cost of that stack,
the difference between it and a turn is the cost of the turn itself.
"""
import os

from assistant import create_app

app = create_app({
    "SECRET_KEY": os.environ["SECRET_KEY"],
    "DATABASE_URL": os.environ["BENCH_DATABASE_URL"],
    "RATELIMIT_ENABLED": False,
    "PUBLIC_URL": "https://bench.invalid",  # production mode needs it; the benchmark never follows a link
})


@app.get("/bench/stack-floor")
def stack_floor():
    return {"status": "ok", "service": "floor"}
