"""Webhook signatures, both schemes the Voxpria docs show: signing (the simulator) and verifying
(the receiver) in one place, so the two can never drift apart.

Scheme A: `x-voxpria-signature: sha256=<hex>`, HMAC-SHA256 of the JSON body, keyed with the
secret, with no timestamp. The docs' example signs the body re-serialised (JSON.stringify of the
parsed body), so a delivery verifies over its raw bytes or, failing that, over that compact form.
Scheme B: `X-Webhook-Signature: t=<unix s>,v1=<hex>`, HMAC-SHA256 of `<t>.<raw body>`; `t` must
lie within the tolerance of now, so a captured delivery cannot be replayed later.

The key is the secret's UTF-8 bytes as Voxpria returns it (`whsec_` included): the docs say only
"keyed with the webhook secret". Digests are compared in constant time, and no message here
ever contains the secret or a signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from dialer.clock import Clock
from dialer.settings import Secret

HEADER_A = "x-voxpria-signature"
HEADER_B = "x-webhook-signature"
PREFIX_A = "sha256="
# Unix seconds in ASCII digits (str.isdigit() takes '²' and '٣' too); 12 digits reach year 33658.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class Scheme(StrEnum):
    A = "A"  # x-voxpria-signature: sha256=<hex>
    B = "B"  # X-Webhook-Signature: t=<unix seconds>,v1=<hex>


def _hmac_hex(secret: Secret, message: bytes) -> str:
    return hmac.new(secret.reveal().encode(), message, hashlib.sha256).hexdigest()


def sign_a(secret: Secret, body: bytes) -> str:
    """The scheme A header value for `body`."""
    return PREFIX_A + _hmac_hex(secret, body)


def sign_b(secret: Secret, body: bytes, timestamp_s: int) -> str:
    """The scheme B header value for `body` signed at `timestamp_s` (Unix seconds)."""
    return f"t={timestamp_s},v1={_hmac_hex(secret, _signed_b(timestamp_s, body))}"


def signature_headers(scheme: Scheme, secret: Secret, body: bytes, now_s: float) -> dict[str, str]:
    """The header that signs `body` in `scheme`, as a sender puts it on a delivery."""
    if scheme is Scheme.A:
        return {HEADER_A: sign_a(secret, body)}
    return {HEADER_B: sign_b(secret, body, int(now_s))}


def stringified(body: bytes) -> bytes | None:
    """`body` as the docs' example re-serialises it (JSON.stringify of the parsed body: compact,
    key order kept, non-ASCII as is); None when it is not JSON. It runs before the signature is
    known to be good, so a stranger's body gets here: parse_json keeps it cheap and harmless."""
    parsed = parse_json(body)
    if parsed is None:
        return None
    return json.dumps(parsed, separators=(",", ":"), ensure_ascii=False).encode()


def parse_json(body: bytes) -> object | None:
    """`body` parsed as JSON; None when it is not JSON or not UTF-8. Linear in the body's size
    (already capped); nesting deeper than the recursion limit is refused by the parser with a
    RecursionError, caught here, so a hostile body costs a few milliseconds and no 500."""
    try:
        parsed: object = json.loads(body)
    except (ValueError, RecursionError):  # ValueError: also UnicodeDecodeError
        return None
    return parsed


def _signed_b(timestamp_s: int, body: bytes) -> bytes:
    return f"{timestamp_s}.".encode() + body


def _same(expected_hex: str, given: str) -> bool:
    # bytes, not str: compare_digest refuses non-ASCII text, and a forger may send some
    return hmac.compare_digest(expected_hex.encode(), given.strip().lower().encode())


@dataclass(frozen=True)
class Verdict:
    """Whether a delivery is authentic, and why not (for the log: never a secret or digest)."""

    ok: bool
    reason: str = ""


class SignatureVerifier:
    """Checks a delivery's signature, whichever scheme signed it, against one secret."""

    def __init__(self, secret: Secret, tolerance_s: float, clock: Clock) -> None:
        if not secret:
            raise ValueError("a webhook secret is required to verify signatures")
        self._secret = secret
        self._tolerance_s = tolerance_s
        self._clock = clock

    def __repr__(self) -> str:
        return f"SignatureVerifier(tolerance_s={self._tolerance_s:g})"

    def verify(self, headers: Mapping[str, str], body: bytes) -> Verdict:
        """OK when a signature header present verifies; a delivery may carry both schemes."""
        lowered = {name.lower(): value for name, value in headers.items()}
        verdicts = [
            check(lowered[name], body)
            for name, check in ((HEADER_A, self._verify_a), (HEADER_B, self._verify_b))
            if name in lowered
        ]
        if not verdicts:
            return Verdict(False, f"no {HEADER_A} or {HEADER_B} header")
        return next((v for v in verdicts if v.ok), verdicts[0])

    def _verify_a(self, header: str, body: bytes) -> Verdict:
        given = header.strip()
        given = given[len(PREFIX_A) :] if given.lower().startswith(PREFIX_A) else given
        if _same(_hmac_hex(self._secret, body), given):
            return Verdict(True)
        compact = stringified(body)
        if compact not in (None, body) and _same(_hmac_hex(self._secret, compact), given):
            return Verdict(True)
        return Verdict(False, "scheme A signature does not match the body")

    def _verify_b(self, header: str, body: bytes) -> Verdict:
        fields = [part.strip().partition("=") for part in header.split(",")]
        stamps = [value.strip() for key, _, value in fields if key.strip() == "t"]
        given = [value for key, _, value in fields if key.strip() == "v1"]
        if len(stamps) != 1 or not _TIMESTAMP.fullmatch(stamps[0]) or not given:
            return Verdict(False, "scheme B header is not t=<unix seconds>,v1=<hex>")
        timestamp_s = int(stamps[0])
        expected = _hmac_hex(self._secret, _signed_b(timestamp_s, body))
        # every v1 is compared (no early exit), so the time taken tells nothing
        matches = [_same(expected, value) for value in given]
        if not any(matches):
            return Verdict(False, "scheme B signature does not match the body")
        age_s = self._clock.now() - timestamp_s
        if abs(age_s) > self._tolerance_s:
            return Verdict(
                False,
                f"scheme B signed {age_s:.0f} s from now, outside the "
                f"{self._tolerance_s:g} s tolerance (a replay, or a clock off)",
            )
        return Verdict(True)
