"""Rendering the appointment report: one Jinja template (``interop/report.html``) for
the web print view and the PDF. The PDF layout is a bare document around the same
content, turned into PDF by WeasyPrint with ``report.css`` (charts are SVG images, so
they stay vector graphics in the PDF)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment
from weasyprint import CSS, HTML  # type: ignore[import-untyped]

from painpath.kit.web import make_templates

TEMPLATE = "interop/report.html"
WEB_LAYOUT = "base.html"
PDF_LAYOUT = "interop/_document.html"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = make_templates().env
    env.autoescape = True
    return env


def _stylesheet() -> str:
    return str(files("painpath") / "static" / "css" / "report.css")


def render_html(context: dict[str, Any]) -> str:
    """The report as a standalone HTML document (the PDF's layout)."""
    template = _env().get_template(TEMPLATE)
    return template.render({**context, "layout": PDF_LAYOUT, "for_pdf": True})


def html_to_pdf(html: str) -> bytes:
    document = HTML(string=html, base_url=str(files("painpath") / "static"))
    pdf = document.write_pdf(stylesheets=[CSS(filename=_stylesheet())])
    return bytes(pdf or b"")


def render_pdf(context: dict[str, Any]) -> bytes:
    return html_to_pdf(render_html(context))
