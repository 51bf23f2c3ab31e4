"""Webhook signatures, both schemes: the signing the simulator does and the checks the receiver
makes. Known vectors were computed with `openssl dgst -sha256 -hmac`, not with this code."""

from __future__ import annotations

import json

import pytest

from dialer.clock import FakeClock
from dialer.settings import Secret
from dialer.voxpria.signatures import (
    HEADER_A,
    HEADER_B,
    Scheme,
    SignatureVerifier,
    sign_a,
    sign_b,
    signature_headers,
    stringified,
)

SECRET = Secret("whsec_test_secret")
BODY = b'{"event":"call.completed","data":{"callId":"call_1"}}'
NOW = 1_700_000_000.0
# openssl dgst -sha256 -hmac whsec_test_secret over BODY, and over "1700000000." + BODY
VECTOR_A = "b845ba6b643c7e79be0ae57483fe27c4dde240d375b0e32fa643783ff3150b58"
VECTOR_B = "5d811ece0e460890caf560040fd28a597cd38febd43933363796bea53f6a7a50"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def verifier(clock: FakeClock) -> SignatureVerifier:
    return SignatureVerifier(SECRET, tolerance_s=300, clock=clock)


def test_both_schemes_sign_as_openssl_does() -> None:
    assert sign_a(SECRET, BODY) == f"sha256={VECTOR_A}"
    assert sign_b(SECRET, BODY, int(NOW)) == f"t=1700000000,v1={VECTOR_B}"


@pytest.mark.parametrize("scheme", list(Scheme))
def test_what_is_signed_verifies(verifier: SignatureVerifier, scheme: Scheme) -> None:
    headers = signature_headers(scheme, SECRET, BODY, NOW)
    assert verifier.verify(headers, BODY).ok


@pytest.mark.parametrize(
    "header",
    [f"sha256={VECTOR_A}", f"SHA256={VECTOR_A.upper()}", VECTOR_A, f"  sha256={VECTOR_A} "],
)
def test_scheme_a_is_read_tolerantly(verifier: SignatureVerifier, header: str) -> None:
    assert verifier.verify({"X-Voxpria-Signature": header}, BODY).ok


def test_scheme_a_verifies_over_the_body_re_serialised_as_the_docs_example_does(
    verifier: SignatureVerifier,
) -> None:
    # The sender signed JSON.stringify(parsed) but put a pretty-printed body on the wire.
    parsed = {"event": "call.completed", "data": {"callId": "call_1", "transcript": "¿Sí? 👍"}}
    wire = json.dumps(parsed, indent=2, ensure_ascii=True).encode()
    signed = json.dumps(parsed, separators=(",", ":"), ensure_ascii=False).encode()
    assert stringified(wire) == signed
    assert verifier.verify({HEADER_A: sign_a(SECRET, signed)}, wire).ok


def test_scheme_a_refuses_a_tampered_body_or_another_secret(verifier: SignatureVerifier) -> None:
    tampered = BODY.replace(b"completed", b"failed")
    assert not verifier.verify({HEADER_A: sign_a(SECRET, BODY)}, tampered).ok
    assert not verifier.verify({HEADER_A: sign_a(Secret("whsec_other"), BODY)}, BODY).ok


def test_no_signature_header_is_refused(verifier: SignatureVerifier) -> None:
    verdict = verifier.verify({"content-type": "application/json"}, BODY)
    assert not verdict.ok and "header" in verdict.reason


@pytest.mark.parametrize("age_s", [301, -301, 86_400])
def test_scheme_b_refuses_a_signature_outside_the_tolerance(
    verifier: SignatureVerifier, age_s: int
) -> None:
    header = sign_b(SECRET, BODY, int(NOW) - age_s)
    verdict = verifier.verify({HEADER_B: header}, BODY)
    assert not verdict.ok and "tolerance" in verdict.reason


def test_scheme_b_accepts_inside_the_tolerance(verifier: SignatureVerifier) -> None:
    for age_s in (0, 299, -299):
        assert verifier.verify({HEADER_B: sign_b(SECRET, BODY, int(NOW) - age_s)}, BODY).ok


def test_scheme_b_signs_the_timestamp_too(verifier: SignatureVerifier) -> None:
    """A signature moved onto a fresher timestamp does not verify (no replay by editing t)."""
    old = sign_b(SECRET, BODY, int(NOW) - 3600)
    moved = old.replace(f"t={int(NOW) - 3600}", f"t={int(NOW)}")
    assert not verifier.verify({HEADER_B: moved}, BODY).ok


def test_scheme_b_takes_any_of_several_v1_signatures(verifier: SignatureVerifier) -> None:
    """As during a secret rotation: one v1 per secret."""
    good = sign_b(SECRET, BODY, int(NOW))
    header = f"t={int(NOW)},v1={'0' * 64},{good.split(',')[1]}"
    assert verifier.verify({HEADER_B: header}, BODY).ok


@pytest.mark.parametrize(
    "header",
    ["", "garbage", f"v1={VECTOR_B}", "t=abc,v1=00", f"t=1700000000,t=1700000001,v1={VECTOR_B}"],
)
def test_scheme_b_refuses_a_malformed_header(verifier: SignatureVerifier, header: str) -> None:
    assert not verifier.verify({HEADER_B: header}, BODY).ok


def test_junk_signatures_are_refused_without_an_error(verifier: SignatureVerifier) -> None:
    for header in ("sha256=ünïcödé", "sha256=" + "z" * 64, "sha256=" + VECTOR_A[:10]):
        assert not verifier.verify({HEADER_A: header}, BODY).ok
    assert stringified(b"\xff\xfe not json") is None


def test_one_good_scheme_is_enough_when_both_are_sent(verifier: SignatureVerifier) -> None:
    headers = {HEADER_A: "sha256=" + "0" * 64, HEADER_B: sign_b(SECRET, BODY, int(NOW))}
    assert verifier.verify(headers, BODY).ok


def test_the_secret_never_shows(verifier: SignatureVerifier) -> None:
    verdicts = [
        verifier.verify({HEADER_A: "sha256=00"}, BODY),
        verifier.verify({HEADER_B: sign_b(SECRET, BODY, 0)}, BODY),
        verifier.verify({}, BODY),
    ]
    shown = " ".join([repr(verifier), *(repr(v) for v in verdicts)])
    assert SECRET.reveal() not in shown and VECTOR_A not in shown


def test_a_verifier_needs_a_secret(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="secret"):
        SignatureVerifier(Secret(""), 300, clock)
