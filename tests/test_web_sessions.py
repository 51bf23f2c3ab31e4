"""Sessions of the web page attacked (issue 15), over real HTTP against `dialer serve`'s app.

Before: the cookie's key was derived from DIALER_UI_TOKEN, so a cookie from `GET /login` let
anyone test token guesses offline (a weak token fell in 160 guesses) and forge a signed-in
cookie; signing out left the old cookie working for 12 h; `/login?next=//evil.example`
redirected off-site; wrong tokens were only delayed, never limited.
"""

from __future__ import annotations

import hashlib
import hmac
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from itsdangerous import BadSignature, URLSafeTimedSerializer

from dialer.clock import FakeClock
from dialer.settings import Secret
from dialer.web.sessions import COOKIE_NAME, KEY_FILE
from dialer.web.sign_in_limits import Bucket, SignInLimiter, SignInLimits
from tests.cli_support import wait_until
from tests.web_support import TOKEN, WebServer, csrf_of, signed_in, web_server, web_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def web(tmp_path: Path, api_key: str) -> Iterator[WebServer]:
    with web_server(web_settings(tmp_path / "home", None, api_key)) as server:
        yield server


def _login_cookie(root_url: str) -> str:
    return httpx.get(root_url + "/login").cookies[COOKIE_NAME]


def test_a_cookie_is_no_oracle_for_the_token_and_its_key_is_random_and_private(
    tmp_path: Path, api_key: str, web: WebServer
) -> None:
    cookie = _login_cookie(web.root_url)
    # the old scheme: key = HMAC(token, purpose). Even the right token does not verify it.
    old_key = hmac.new(TOKEN.encode(), b"dialer-ui-session-v1", hashlib.sha256).digest()
    for salt in ("dialer-ui-session", "dialer-ui-session-v2"):
        with pytest.raises(BadSignature):
            URLSafeTimedSerializer(old_key, salt=salt).loads(cookie)
    key_file = web.settings.home / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert TOKEN not in key_file.read_text() and len(key_file.read_text().strip()) >= 64
    signed_in_cookie = signed_in(web.root_url).cookies[COOKIE_NAME]
    # the same token on another home: another key, and this server's cookies are worthless
    with web_server(web_settings(tmp_path / "other", None, api_key)) as other:
        assert (other.settings.home / KEY_FILE).read_text() != key_file.read_text()
        stranger = httpx.Client(base_url=other.root_url, cookies={COOKIE_NAME: signed_in_cookie})
        assert stranger.get("/campaigns").status_code == 303


def test_a_forged_or_tampered_cookie_signs_nobody_in(web: WebServer) -> None:
    cookie = signed_in(web.root_url).cookies[COOKIE_NAME]
    for forged in (cookie[:-2] + "AA", "x" * 5000, "", "a.b.c", cookie + "."):
        client = httpx.Client(base_url=web.root_url, cookies={COOKIE_NAME: forged})
        assert client.get("/campaigns").status_code == 303


def test_signing_out_revokes_the_session_and_a_replayed_cookie_is_refused(
    web: WebServer,
) -> None:
    client = signed_in(web.root_url)
    stolen = client.cookies[COOKIE_NAME]
    csrf = csrf_of(client.get("/new").text)
    assert client.get("/campaigns").status_code == 200
    out = client.post("/logout", data={"csrf": csrf}, headers={"Origin": web.root_url})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    replay = httpx.Client(base_url=web.root_url, cookies={COOKIE_NAME: stolen})
    assert replay.get("/campaigns").status_code == 303
    assert replay.get("/campaigns/x/progress").status_code == 401
    posted = replay.post("/campaigns/x/stop", data={"csrf": csrf})
    assert posted.status_code == 403 and "sign in again" in posted.text
    assert signed_in(web.root_url).get("/campaigns").status_code == 200  # a new sign-in works


def test_a_session_survives_a_restart_but_not_a_new_token(tmp_path: Path, api_key: str) -> None:
    home = tmp_path / "home"
    with web_server(web_settings(home, None, api_key)) as first:
        cookie = signed_in(first.root_url).cookies[COOKIE_NAME]
    with web_server(web_settings(home, None, api_key)) as again:
        client = httpx.Client(base_url=again.root_url, cookies={COOKIE_NAME: cookie})
        assert client.get("/campaigns").status_code == 200
    new_token = web_settings(home, None, api_key, ui_token=Secret("a-new-token-0123456789abc"))
    with web_server(new_token) as rotated:
        client = httpx.Client(base_url=rotated.root_url, cookies={COOKIE_NAME: cookie})
        assert client.get("/campaigns").status_code == 303


OFF_SITE = [
    "//evil.example",
    "//evil.example/campaigns",
    "///evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "https://evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "/campaigns/../..//evil.example",
    "evil.example",
]


@pytest.mark.parametrize("next_url", OFF_SITE)
def test_next_never_leads_off_site(web: WebServer, next_url: str) -> None:
    client = httpx.Client(base_url=web.root_url)
    form = client.get("/login", params={"next": next_url})
    assert 'value="/"' in form.text  # the form carries "/" instead
    answer = client.post(
        "/login", data={"csrf": csrf_of(form.text), "token": TOKEN, "next": next_url}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    again = client.get("/login", params={"next": next_url})  # signed in: redirected at once
    assert again.status_code == 303 and again.headers["location"] == "/"


def test_next_keeps_a_path_of_this_site(web: WebServer) -> None:
    client = httpx.Client(base_url=web.root_url)
    first = client.get("/campaigns/list-ab12cd34")
    assert first.headers["location"] == "/login?next=/campaigns/list-ab12cd34"
    form = client.get(first.headers["location"])
    answer = client.post(
        "/login",
        data={"csrf": csrf_of(form.text), "token": TOKEN, "next": "/campaigns/list-ab12cd34"},
    )
    assert answer.headers["location"] == "/campaigns/list-ab12cd34"


def test_wrong_tokens_are_limited_per_client_and_then_even_the_right_one_waits(
    tmp_path: Path, api_key: str
) -> None:
    limits = SignInLimits(per_client=Bucket(3, 0.5), overall=Bucket(100, 0.01))
    settings = web_settings(tmp_path / "home", None, api_key)
    with web_server(settings, sign_in_limits=limits) as web:
        client = httpx.Client(base_url=web.root_url)
        csrf = csrf_of(client.get("/login").text)

        def attempt(token: str) -> httpx.Response:
            return client.post("/login", data={"csrf": csrf, "token": token})

        assert [attempt(f"guess-{i}").status_code for i in range(3)] == [401] * 3
        refused = attempt(TOKEN)  # over the limit: not even compared
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "Too many wrong tokens" in refused.text and TOKEN not in refused.text
        assert client.get("/campaigns").status_code == 303
        wait_until(lambda: attempt(TOKEN).status_code == 303, timeout_s=5, what="the refill")
        assert client.get("/campaigns").status_code == 200


def test_the_overall_limit_holds_when_guesses_come_from_many_addresses() -> None:
    clock = FakeClock()
    limiter = SignInLimiter(
        SignInLimits(per_client=Bucket(5, 60), overall=Bucket(20, 3)), clock, max_clients=50
    )
    allowed = 0
    for i in range(1000):  # a botnet: every guess from a new address
        client = f"10.0.{i // 250}.{i % 250}"
        if limiter.wait_s(client) == 0:
            allowed += 1
            limiter.failed(client)
    assert allowed == 20
    clock.advance(30)
    assert limiter.wait_s("10.9.9.9") == 0  # refilled: 10 more tries after 30 s
    assert limiter.wait_s("10.0.0.0") == 0
    for _ in range(5):
        limiter.failed("10.1.1.1")
    assert limiter.wait_s("10.1.1.1") > 0  # one address: its own bucket, burst 5
