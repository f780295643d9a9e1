"""The floor: the cheapest thing Flask can serve under the same gunicorn, a fixed JSON body. Not part of the product."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def floor():
    return {"status": "ok", "service": "floor"}
