"""The web page for the people who run campaigns, served by `dialer serve` at `/`.

Upload a list, read the dry-run plan, start, watch, stop, resume, download the report. Plain
server-rendered HTML (Jinja2, autoescaped) and a little JavaScript; no build step.

- `app`: the Starlette app (`create_ui_app`), the page shown when the UI is off, and the one
  ASGI app `dialer serve` runs with the webhook receiver (`create_serve_app`).
- `runs`: starting, stopping and resuming campaigns, usable without HTTP.
- `sessions`, `gate`: sign-in, signed cookies, CSRF and cross-site checks, security headers.
- `uploads`, `drafts`, `new_pages`, `planning`, `plan_child`: from an uploaded file to the plan
  a person reads.
- `progress`, `reports`: what the campaign page polls and downloads.
- `schedule_pages`, `schedule_routes`: the Schedules page.
- `failures`, `formatting`: what the page answers when something fails; numbers and times.
"""
