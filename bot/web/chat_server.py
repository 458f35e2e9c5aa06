"""Serves the public chat page and the embeddable widget (port 8080).

  /                     a demo clinic page with the widget on it (clinic details from clinic.yml)
  /static/widget.js     the widget: one <script> tag embeds it on any site (see README, "Chat widget")
  /widget/config.json   the widget's words and limits, filled from clinic.yml (CORS-open: other
                        sites embedding the widget fetch it)

The browser talks to the Rasa server's REST channel directly; this server only hands out files.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Dict
from urllib.parse import urlsplit

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot import clinic
from bot.channels.inbound import MAX_MESSAGE_CHARS

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
WIDGET_TEXT_FILE = HERE / "widget_text.yml"


def widget_text(values: Dict[str, str]) -> Dict[str, str]:
    raw = yaml.safe_load(WIDGET_TEXT_FILE.read_text(encoding="utf-8"))
    return {key: str(value).format(**values) for key, value in raw.items()}


def public_rasa_url(rasa_url: str) -> str:
    """Where a browser reaches the Rasa server: RASA_PUBLIC_URL, else the address this server was given.
    Never the request's Host header: a forged Host once pointed the page, its CSP and the widget's
    config at another server (and a cache could keep that page for other people)."""
    configured = os.environ.get("RASA_PUBLIC_URL", "").strip()
    return (configured or rasa_url).rstrip("/")


def widget_config(values: Dict[str, str], text: Dict[str, str], rasa_url: str) -> Dict[str, Any]:
    return {
        "rasaUrl": rasa_url,
        "maxMessageChars": MAX_MESSAGE_CHARS,  # the REST channel's own limit
        "emergencyNumber": values["emergency_number"],
        "crisisLine": values["crisis_line"],
        "text": text,
    }


def _security_headers(rasa_url: str) -> Dict[str, str]:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(rasa_url))
    return {
        "Content-Security-Policy": (
            f"default-src 'self'; connect-src 'self' {origin}; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def create_app(rasa_url: str) -> Starlette:
    # A broken clinic.yml raises ClinicConfigError here: the page does not start with wrong details.
    values = clinic.load().template_values()
    text = widget_text(values)
    templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))

    url = public_rasa_url(rasa_url)
    page = templates.get_template("clinic_page.html").render(clinic=values, text=text, rasa_url=url)
    # revalidated on every visit: clinic.yml may change, and a shared cache must not serve a stale page
    page_headers = {**_security_headers(url), "Cache-Control": "no-cache"}

    async def index(_: Request) -> Response:
        return HTMLResponse(page, headers=page_headers)

    async def config(_: Request) -> Response:
        body = widget_config(values, text, url)
        return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"})

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/", index),
            Route("/widget/config.json", config),
            Route("/healthz", healthz),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )


def main(argv=None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    args = parser.parse_args(argv)
    uvicorn.run(create_app(args.rasa_url), host=args.host, port=args.port, log_level="warning", ws="none")


if __name__ == "__main__":
    main()
