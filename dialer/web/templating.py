"""Rendering pages: Jinja2 templates packaged in dialer/web/templates, always autoescaped.

Every cell of a contact list is somebody else's text (`<script>` in a name column is a name, not
markup), so nothing is ever marked safe: autoescape is on for every template, whatever its
name, and the templates use no `|safe`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jinja2
from starlette.responses import HTMLResponse

from campaigns.plan import counted
from dialer.web import formatting
from dialer.web.sessions import Session


def template_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dialer.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt name fails the page, not shows blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        duration=formatting.duration_text,
        rate=formatting.rate_text,
        utc=formatting.utc_text,
        size=formatting.size_text,
        number=formatting.number_text,
        counted=counted,  # {{ n|counted("row") }}: "1 row", "2 rows", as the dry run says it
    )
    env.globals["opening"] = formatting.opening_text
    return env


class Pages:
    def __init__(self, env: jinja2.Environment) -> None:
        self._env = env

    def html(
        self, name: str, session: Session | None, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        template = self._env.get_template(name)
        body = template.render(session=session, **context)
        return HTMLResponse(body, status_code=status_code)

    def stream(self, name: str, session: Session | None, **context: Any) -> Iterator[str]:
        """The page in pieces as the template produces them: for pages of unbounded length
        (every invalid row of a large list), never held whole in memory."""
        return self._env.get_template(name).generate(session=session, **context)

    def error(
        self,
        session: Session | None,
        status_code: int,
        title: str,
        message: str,
        back_url: str = "",
        advice: str = "",
    ) -> HTMLResponse:
        return self.html(
            "error.html",
            session,
            status_code,
            title=title,
            message=message,
            back_url=back_url,
            advice=advice,
        )
