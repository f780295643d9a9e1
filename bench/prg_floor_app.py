"""The POST-redirect-GET floor for bench/phone.py: a bare page (a heading and one submit button, no CSS, no script)
whose form posts to a route that answers 303 to the same bare page, the next question's number in its address.
What a form turn without JavaScript costs the browser whatever the page. Not part of the product."""
from flask import Flask, redirect, request

app = Flask(__name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>Question {n}</title></head>
<body><h1>Question {n}</h1>
<form method="post" action="/answer" id="answer"><input type="hidden" name="question_id" value="q{n}">
<button type="submit" name="value" value="next">Next</button></form></body></html>
"""


def number(text: str | None) -> int:
    text = (text or "").removeprefix("q")
    return int(text) if text.isdigit() and len(text) < 7 else 0


@app.get("/")
def question():
    n = number(request.args.get("n"))
    return PAGE.format(n=n), {"Cache-Control": "no-store"}


@app.post("/answer")
def answer():
    return redirect(f"/?n={number(request.form.get('question_id')) + 1}", 303)
