"""WebAuthn ceremonies against a software authenticator: what verifies, what is refused, and why.

Every refusal is checked by its message, so a test fails if the check behind it is removed and the answer
falls through to another one (or to a raw py_webauthn, json or base64 exception).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.common.authenticator import FLAG_AT, FLAG_UP, FLAG_UV, SoftAuthenticator
from tests.common.encoding import b64u_decode, b64u_encode
from tpp_core.errors import InvalidInput, TPPError
from tpp_core.identifiers import PersonId, ProjectName, RequestId, Sha256
from tpp_core.manifest import Verdict, build_manifest, make_challenge
from tpp_core.subjects import Release, ReleaseFile
from tpp_warehouse import webauthn
from tpp_warehouse.webauthn import (
    MAX_CREDENTIAL_JSON,
    RegisteredCredential,
    VerifiedAssertion,
    WebAuthnRejected,
    assertion_options,
    credential_id_of,
    registration_options,
    reverify,
    verify_assertion,
    verify_registration,
)

RP_ID = "localhost"
ORIGIN = "http://localhost:6543"
EVIL = "http://evil.example"
HANDLE = b"tpp-person-0001"
ALGS = pytest.mark.parametrize("alg", [-7, -8, -257], ids=["ES256", "Ed25519", "RS256"])

ANOTHER_REQUEST = "this confirmation was made for another page or request"
UV_REQUIRED = re.escape("user verification (PIN or biometrics) is required")
BAD_SIGNATURE = "the security key's signature does not match"

Answer = dict[str, Any]


def nonce() -> bytes:
    return secrets.token_bytes(32)


def answer_registration(dev: SoftAuthenticator, challenge: bytes, *, origin: str = ORIGIN) -> Answer:
    options = registration_options(
        rp_id=RP_ID, rp_name="TPP registry", user_name="ann", user_handle=HANDLE, challenge=challenge, exclude=[]
    )
    return dev.create(json.loads(options), origin)


def register(dev: SoftAuthenticator) -> RegisteredCredential:
    challenge = nonce()
    answer = answer_registration(dev, challenge)
    return verify_registration(credential=json.dumps(answer), challenge=challenge, rp_id=RP_ID, origins=[ORIGIN])


@dataclasses.dataclass
class Device:
    """A software authenticator and what the server stored when enrolling it."""

    dev: SoftAuthenticator
    cred: RegisteredCredential

    @classmethod
    def enrol(cls, alg: int, **knobs: Any) -> Device:
        dev = SoftAuthenticator(alg=alg, **knobs)
        return cls(dev, register(dev))

    def sign(self, challenge: bytes, *, origin: str = ORIGIN, user_verified: bool | None = None) -> Answer:
        options = assertion_options(rp_id=RP_ID, challenge=challenge, credential_ids=[self.cred.credential_id])
        return self.dev.get(json.loads(options), origin, user_verified=user_verified)

    def verify(self, answer: Answer | str, challenge: bytes, **overrides: Any) -> VerifiedAssertion:
        arguments: dict[str, Any] = {
            "credential": answer if isinstance(answer, str) else json.dumps(answer),
            "challenge": challenge,
            "rp_id": RP_ID,
            "origins": [ORIGIN],
            "public_key": self.cred.public_key,
            "sign_count": self.cred.sign_count,
        }
        return verify_assertion(**(arguments | overrides))


@pytest.fixture(params=[-7, -8, -257], ids=["ES256", "Ed25519", "RS256"])
def device(request: pytest.FixtureRequest) -> Device:
    return Device.enrol(request.param)


def stored(approval: VerifiedAssertion, device: Device, challenge: bytes) -> dict[str, Any]:
    """What an approval row keeps, as reverify's keyword arguments."""
    return {
        "client_data_json": approval.client_data_json,
        "authenticator_data": approval.authenticator_data,
        "signature": approval.signature,
        "public_key": device.cred.public_key,
        "challenge": challenge,
        "rp_id": RP_ID,
        "origins": [ORIGIN],
    }


def manifest(sha256: str) -> bytes:
    release = Release(
        project=ProjectName("acme"),
        version="1.0",
        files=(ReleaseFile(filename="acme-1.0.tar.gz", sha256=Sha256(sha256), size=10),),
    )
    return build_manifest(
        registry=ORIGIN,
        request_id=RequestId("r1"),
        policy_version=1,
        subject=release,
        approver=PersonId("ann"),
        verdict=Verdict.APPROVE,
    )


def edit_client_data(answer: Answer, **changes: Any) -> Answer:
    """Change clientDataJSON after signing (the signature no longer matches, which some checks precede)."""
    data = json.loads(b64u_decode(answer["response"]["clientDataJSON"])) | changes
    response = answer["response"] | {"clientDataJSON": b64u_encode(json.dumps(data).encode())}
    return answer | {"response": response}


def edit_attestation(
    answer: Answer,
    *,
    flags: int | None = None,
    credential_id: bytes | None = None,
    cose: bytes | None = None,
    att_stmt: dict[str, Any] | None = None,
) -> Answer:
    """Rebuild a registration's attestationObject; fmt "none" carries no signature, so anything goes."""
    attestation = cbor2.loads(b64u_decode(answer["response"]["attestationObject"]))
    auth = attestation["authData"]
    id_length = int.from_bytes(auth[53:55], "big")
    old_id, old_key = auth[55 : 55 + id_length], auth[55 + id_length :]
    new_id = old_id if credential_id is None else credential_id
    auth = (
        auth[:32]
        + bytes([auth[32] if flags is None else flags])
        + auth[33:53]
        + len(new_id).to_bytes(2, "big")
        + new_id
        + (old_key if cose is None else cose)
    )
    attestation = {"fmt": "none", "attStmt": att_stmt or {}, "authData": auth}
    response = answer["response"] | {"attestationObject": b64u_encode(cbor2.dumps(attestation))}
    return answer | {"response": response}


def flip_last_bit(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


# --- registration -------------------------------------------------------------------------------------


def test_registration_options_require_uv_and_exclude_existing_devices() -> None:
    challenge, existing = nonce(), [b"\x01" * 16, b"\x02" * 32]
    options = json.loads(
        registration_options(
            rp_id=RP_ID,
            rp_name="TPP registry",
            user_name="ann",
            user_handle=HANDLE,
            challenge=challenge,
            exclude=existing,
        )
    )
    assert options["authenticatorSelection"] == {
        "residentKey": "preferred",
        "requireResidentKey": False,
        "userVerification": "required",
    }
    assert options["attestation"] == "none"
    assert [param["alg"] for param in options["pubKeyCredParams"]] == [-7, -8, -257]
    assert [b64u_decode(item["id"]) for item in options["excludeCredentials"]] == existing
    assert b64u_decode(options["challenge"]) == challenge
    assert b64u_decode(options["user"]["id"]) == HANDLE
    assert options["rp"] == {"id": RP_ID, "name": "TPP registry"}


@ALGS
def test_registration_round_trip(alg: int) -> None:
    dev = SoftAuthenticator(alg=alg)
    cred = register(dev)
    assert cred.credential_id == dev.credential_id
    assert cbor2.loads(cred.public_key)[3] == alg
    assert (cred.sign_count, cred.backed_up, cred.device_type) == (0, False, "single_device")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cred.sign_count = 5  # type: ignore[misc]
    assert not hasattr(cred, "__dict__")


@ALGS
def test_registration_without_user_verification_is_rejected(alg: int) -> None:
    dev = SoftAuthenticator(alg=alg, user_verifying=False)
    challenge = nonce()
    answer = json.dumps(answer_registration(dev, challenge))
    with pytest.raises(WebAuthnRejected, match=r"^user verification \(PIN or biometrics\) is required$") as caught:
        verify_registration(credential=answer, challenge=challenge, rp_id=RP_ID, origins=[ORIGIN])
    assert "User verification is required" in str(caught.value.__cause__)


def _es384_key() -> bytes:
    # A fixed key: parameter ids are made from it, and every xdist worker must make the same ones.
    numbers = ec.derive_private_key(384, ec.SECP384R1()).public_key().public_numbers()
    return cbor2.dumps({1: 2, 3: -35, -1: 2, -2: numbers.x.to_bytes(48, "big"), -3: numbers.y.to_bytes(48, "big")})


# Each case turns (answer, challenge) into the answer to verify and overrides for verify_registration.
RegistrationCase = Callable[[Answer, bytes], tuple[Answer, dict[str, Any]]]
REGISTRATION_REFUSALS: list[tuple[str, RegistrationCase, str]] = [
    ("wrong challenge", lambda a, c: (a, {"challenge": nonce()}), ANOTHER_REQUEST),
    ("wrong origin", lambda a, c: (a, {"origins": ["https://localhost"]}), "unexpected origin"),
    ("wrong rp id", lambda a, c: (a, {"rp_id": "registry.example"}), "answered for another site"),
    ("no user presence", lambda a, c: (edit_attestation(a, flags=FLAG_UV | FLAG_AT), {}), "user presence"),
    ("ES384 key", lambda a, c: (edit_attestation(a, cose=_es384_key()), {}), "algorithm is not supported"),
    ("attStmt on fmt none", lambda a, c: (edit_attestation(a, att_stmt={"sig": b"x"}), {}), "could not be verified"),
    ("other credential id", lambda a, c: (edit_attestation(a, credential_id=b"\x07" * 32), {}), "another credential"),
    (
        "assertion sent",
        lambda a, c: (edit_client_data(a, type="webauthn.get"), {}),
        "sent a confirmation where a device registration was expected",
    ),
]


@ALGS
@pytest.mark.parametrize(
    ("case", "message"), [(c, m) for _, c, m in REGISTRATION_REFUSALS], ids=[i for i, *_ in REGISTRATION_REFUSALS]
)
def test_registration_refusals(alg: int, case: RegistrationCase, message: str) -> None:
    challenge = nonce()
    answer, overrides = case(answer_registration(SoftAuthenticator(alg=alg), challenge), challenge)
    arguments: dict[str, Any] = {
        "credential": json.dumps(answer),
        "challenge": challenge,
        "rp_id": RP_ID,
        "origins": [ORIGIN],
    }
    with pytest.raises(WebAuthnRejected, match=message):
        verify_registration(**(arguments | overrides))


def test_registration_from_a_foreign_origin_is_rejected() -> None:
    challenge = nonce()
    answer = json.dumps(answer_registration(SoftAuthenticator(), challenge, origin=EVIL))
    with pytest.raises(WebAuthnRejected, match=f"^unexpected origin: .* not {ORIGIN}$"):
        verify_registration(credential=answer, challenge=challenge, rp_id=RP_ID, origins=[ORIGIN])


def _p384_key() -> bytes:
    numbers = ec.generate_private_key(ec.SECP384R1()).public_key().public_numbers()
    return cbor2.dumps({1: 2, 3: -7, -1: 2, -2: numbers.x.to_bytes(48, "big"), -3: numbers.y.to_bytes(48, "big")})


def _rsa_key(bits: int, alg: int = -257) -> bytes:
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key().public_numbers()
    return cbor2.dumps({1: 3, 3: alg, -1: numbers.n.to_bytes(bits // 8, "big"), -2: numbers.e.to_bytes(3, "big")})


@pytest.mark.parametrize(
    "cose",
    [
        pytest.param(cbor2.dumps({3: -7}), id="map-without-kty"),  # KeyError inside py_webauthn
        pytest.param(cbor2.dumps([1, 2]), id="list"),  # IndexError inside py_webauthn
        pytest.param(cbor2.dumps(4), id="integer-4"),  # py_webauthn registers it as an empty P-256 key
        pytest.param(cbor2.dumps({1: 2, 3: -7, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32}), id="off-curve"),
        pytest.param(_p384_key(), id="P-384-labelled-ES256"),
        pytest.param(_rsa_key(1024), id="RS256-1024-bits"),
        pytest.param(_rsa_key(2048, alg=-7), id="RSA-labelled-ES256"),
    ],
)
def test_registration_refuses_unusable_public_keys(cose: bytes) -> None:
    challenge = nonce()
    answer = edit_attestation(answer_registration(SoftAuthenticator(), challenge), cose=cose)
    with pytest.raises(InvalidInput, match="public key"):
        verify_registration(credential=json.dumps(answer), challenge=challenge, rp_id=RP_ID, origins=[ORIGIN])


def _no_attestation(answer: Answer) -> Answer:
    return answer | {"response": {"clientDataJSON": answer["response"]["clientDataJSON"]}}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(lambda a: "{", "^the credential is not JSON$", id="not-json"),
        pytest.param(lambda a: json.dumps([a]), "^the credential is not a JSON object$", id="json-list"),
        pytest.param(lambda a: json.dumps(_no_attestation(a)), '"attestationObject"', id="no-attestationObject"),
        pytest.param(
            lambda a: json.dumps(a | {"response": a["response"] | {"attestationObject": b64u_encode(b"\xff\x00")}}),
            "^attestationObject is malformed$",
            id="garbage-attestationObject",
        ),
        pytest.param(lambda a: json.dumps(a | {"pad": "x" * 20 * 1024}), "larger than 16384", id="20-KiB"),
    ],
)
def test_registration_refuses_malformed_input(edit: Callable[[Answer], str], message: str) -> None:
    challenge = nonce()
    credential = edit(answer_registration(SoftAuthenticator(), challenge))
    with pytest.raises(InvalidInput, match=message):
        verify_registration(credential=credential, challenge=challenge, rp_id=RP_ID, origins=[ORIGIN])


# --- assertion ----------------------------------------------------------------------------------------


def test_assertion_options_require_uv_and_allow_only_the_given_devices() -> None:
    challenge, ids = nonce(), [b"\x03" * 32, b"\x04" * 20]
    options = json.loads(assertion_options(rp_id=RP_ID, challenge=challenge, credential_ids=ids))
    assert options["userVerification"] == "required"
    assert options["rpId"] == RP_ID
    assert b64u_decode(options["challenge"]) == challenge
    assert [b64u_decode(item["id"]) for item in options["allowCredentials"]] == ids


def test_assertion_options_refuse_an_empty_allow_list() -> None:
    with pytest.raises(InvalidInput, match=r"^no device can sign this"):
        assertion_options(rp_id=RP_ID, challenge=nonce(), credential_ids=[])


def test_assertion_round_trip_keeps_what_reverify_needs(device: Device) -> None:
    challenge = nonce()
    answer = device.sign(challenge)
    approval = device.verify(answer, challenge)
    assert approval.credential_id == device.dev.credential_id
    assert approval.new_sign_count == 1
    assert approval.user_verified is True
    assert approval.client_data_json == b64u_decode(answer["response"]["clientDataJSON"])
    assert approval.authenticator_data == b64u_decode(answer["response"]["authenticatorData"])
    assert approval.signature == b64u_decode(answer["response"]["signature"])
    assert json.loads(approval.client_data_json)["challenge"] == b64u_encode(challenge)
    reverify(**stored(approval, device, challenge))


def test_a_manifest_bound_64_byte_challenge_verifies(device: Device) -> None:
    challenge = make_challenge(nonce(), manifest("ab" * 32))
    assert len(challenge) == 64
    approval = device.verify(device.sign(challenge), challenge)
    reverify(**stored(approval, device, challenge))


def test_a_file_swapped_after_notification_makes_approval_impossible(device: Device) -> None:
    first = nonce()
    answer = device.sign(make_challenge(first, manifest("ab" * 32)))
    swapped = make_challenge(first, manifest("cd" * 32))  # the server recomputes from what it stores now
    with pytest.raises(WebAuthnRejected, match=f"^{ANOTHER_REQUEST}"):
        device.verify(answer, swapped)


# Each case turns (device, challenge) into the answer and overrides for verify_assertion.
AssertionCase = Callable[[Device, bytes], tuple[Answer, dict[str, Any]]]
ASSERTION_REFUSALS: list[tuple[str, AssertionCase, str]] = [
    ("no user verification", lambda d, c: (d.sign(c, user_verified=False), {}), f"^{UV_REQUIRED}$"),
    ("wrong origin", lambda d, c: (d.sign(c, origin=EVIL), {}), "^unexpected origin"),
    ("wrong rp id", lambda d, c: (d.sign(c), {"rp_id": "registry.example"}), "answered for another site"),
    (
        "tampered signature",
        lambda d, c: (_edit_response(d.sign(c), signature=flip_last_bit), {}),
        f"^{BAD_SIGNATURE}$",
    ),
    ("another device's key", lambda d, c: (d.sign(c), {"public_key": register(SoftAuthenticator())}), BAD_SIGNATURE),
    ("no user presence", lambda d, c: (_no_presence(d.sign(c)), {}), "user presence"),
    ("framed by another site", lambda d, c: (edit_client_data(d.sign(c), crossOrigin=True), {}), "another site's page"),
    (
        "registration sent",
        lambda d, c: (edit_client_data(d.sign(c), type="webauthn.create"), {}),
        "sent a device registration where a confirmation was expected",
    ),
    ("unknown type", lambda d, c: (edit_client_data(d.sign(c), type="payment.get"), {}), "an unknown kind of answer"),
]


def _no_presence(answer: Answer) -> Answer:
    """Clear UP after signing; the presence check comes before the signature check."""
    return _edit_response(answer, authenticatorData=lambda data: _flip(data, FLAG_UP))


def _edit_response(answer: Answer, **edits: Callable[[bytes], bytes]) -> Answer:
    response = dict(answer["response"])
    for name, edit in edits.items():
        response[name] = b64u_encode(edit(b64u_decode(response[name])))
    return answer | {"response": response}


@pytest.mark.parametrize(
    ("case", "message"), [(c, m) for _, c, m in ASSERTION_REFUSALS], ids=[i for i, *_ in ASSERTION_REFUSALS]
)
def test_assertion_refusals(device: Device, case: AssertionCase, message: str) -> None:
    challenge = nonce()
    answer, overrides = case(device, challenge)
    if isinstance(overrides.get("public_key"), RegisteredCredential):
        overrides["public_key"] = overrides["public_key"].public_key
    with pytest.raises(WebAuthnRejected, match=message):
        device.verify(answer, challenge, **overrides)


@pytest.mark.parametrize(
    ("case", "message", "reason"),
    [
        pytest.param(lambda d, c: (d.sign(c), {"challenge": nonce()}), ANOTHER_REQUEST, "challenge", id="challenge"),
        pytest.param(lambda d, c: (d.sign(c, origin=EVIL), {}), "^unexpected origin", "origin", id="origin"),
        pytest.param(lambda d, c: (d.sign(c, user_verified=False), {}), UV_REQUIRED, "User verification", id="uv"),
        pytest.param(lambda d, c: (d.sign(c), {"rp_id": "registry.example"}), "another site", "RP ID", id="rp-id"),
        pytest.param(lambda d, c: (_no_presence(d.sign(c)), {}), "user presence", "not present", id="up"),
    ],
)
def test_py_webauthn_enforces_the_same_checks_behind_ours(
    device: Device, monkeypatch: pytest.MonkeyPatch, case: AssertionCase, message: str, reason: str
) -> None:
    """Defence in depth: with our own checks gone, py_webauthn (called with UV required) still refuses."""
    monkeypatch.setattr(webauthn, "_check_client_data", lambda *args, **kwargs: None)
    monkeypatch.setattr(webauthn, "_check_authenticator_data", lambda *args, **kwargs: None)
    challenge = nonce()
    answer, overrides = case(device, challenge)
    with pytest.raises(WebAuthnRejected, match=message) as caught:
        device.verify(answer, overrides.pop("challenge", challenge), **overrides)
    assert reason in str(caught.value.__cause__)


def test_a_tampered_signature_keeps_py_webauthns_reason_for_the_log(device: Device) -> None:
    challenge = nonce()
    answer = _edit_response(device.sign(challenge), signature=flip_last_bit)
    with pytest.raises(WebAuthnRejected) as caught:
        device.verify(answer, challenge)
    assert str(caught.value.__cause__) == "Could not verify authentication signature"


@ALGS
def test_replaying_an_answer_to_a_counting_authenticator_is_rejected(alg: int) -> None:
    device = Device.enrol(alg, counting=True)
    challenge = nonce()
    answer = json.dumps(device.sign(challenge))
    first = device.verify(answer, challenge)
    with pytest.raises(WebAuthnRejected, match="counter did not advance") as caught:
        device.verify(answer, challenge, sign_count=first.new_sign_count)
    assert "sign count of 1 was not greater than current count of 1" in str(caught.value.__cause__)


def test_a_non_counting_authenticator_shows_why_challenges_must_be_single_use() -> None:
    device = Device.enrol(-7, counting=False)
    challenge = nonce()
    answer = json.dumps(device.sign(challenge))
    assert device.verify(answer, challenge).new_sign_count == 0
    assert device.verify(answer, challenge, sign_count=0).new_sign_count == 0  # only the server can refuse it


# --- reverify -----------------------------------------------------------------------------------------


def _flip(authenticator_data: bytes, flag: int) -> bytes:
    return authenticator_data[:32] + bytes([authenticator_data[32] ^ flag]) + authenticator_data[33:]


def _bump_counter(authenticator_data: bytes) -> bytes:
    return flip_last_bit(authenticator_data)


# Each case edits reverify's keyword arguments, as stored for a verified approval.
REVERIFY_REFUSALS: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]], str]] = [
    ("different challenge", lambda s: s | {"challenge": nonce()}, ANOTHER_REQUEST),
    ("flipped signature bit", lambda s: s | {"signature": flip_last_bit(s["signature"])}, f"^{BAD_SIGNATURE}$"),
    ("different public key", lambda s: s | {"public_key": register(SoftAuthenticator()).public_key}, BAD_SIGNATURE),
    ("wrong origin", lambda s: s | {"origins": [EVIL]}, "^unexpected origin"),
    ("wrong rp id", lambda s: s | {"rp_id": "registry.example"}, "answered for another site"),
    (
        "UV flag cleared",
        lambda s: s | {"authenticator_data": _flip(s["authenticator_data"], FLAG_UV)},
        f"^{UV_REQUIRED}$",
    ),
    ("UP flag cleared", lambda s: s | {"authenticator_data": _flip(s["authenticator_data"], FLAG_UP)}, "user presence"),
    ("counter edited", lambda s: s | {"authenticator_data": _bump_counter(s["authenticator_data"])}, BAD_SIGNATURE),
    ("client data edited", lambda s: s | {"client_data_json": s["client_data_json"] + b" "}, BAD_SIGNATURE),
]


@pytest.mark.parametrize(
    ("edit", "message"), [(e, m) for _, e, m in REVERIFY_REFUSALS], ids=[i for i, *_ in REVERIFY_REFUSALS]
)
def test_reverify_detects(device: Device, edit: Callable[[dict[str, Any]], dict[str, Any]], message: str) -> None:
    challenge = nonce()
    record = stored(device.verify(device.sign(challenge), challenge), device, challenge)
    reverify(**record)
    with pytest.raises(WebAuthnRejected, match=message):
        reverify(**edit(record))


def test_reverify_refuses_an_answer_signed_without_user_verification(device: Device) -> None:
    """The device really signed it, but without UV: live verification refused it, and so does an audit."""
    challenge = nonce()
    answer = device.sign(challenge, user_verified=False)
    record = stored(device.verify(device.sign(challenge), challenge), device, challenge)
    record |= {
        "client_data_json": b64u_decode(answer["response"]["clientDataJSON"]),
        "authenticator_data": b64u_decode(answer["response"]["authenticatorData"]),
        "signature": b64u_decode(answer["response"]["signature"]),
    }
    with pytest.raises(WebAuthnRejected, match=f"^{UV_REQUIRED}$"):
        reverify(**record)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("public_key", b"", "^public_key must be non-empty COSE key bytes$"),
        ("public_key", cbor2.dumps({}), "^public_key is not a usable COSE public key$"),
        (
            "public_key",
            _es384_key(),
            "^public_key is not a P-256 ES256, an Ed25519 or an RS256 key of at least 2048 bits$",
        ),
        ("client_data_json", b"\xff\xfe", "^clientDataJSON is not JSON$"),
        ("client_data_json", "{}", "^client_data_json must be bytes$"),
        ("authenticator_data", b"\x00" * 36, "^authenticatorData is malformed$"),
    ],
)
def test_reverify_refuses_malformed_records(device: Device, field: str, value: Any, message: str) -> None:
    challenge = nonce()
    record = stored(device.verify(device.sign(challenge), challenge), device, challenge)
    with pytest.raises(InvalidInput, match=message):
        reverify(**(record | {field: value}))


# --- malformed answers --------------------------------------------------------------------------------


def _with(answer: Answer, **fields: Any) -> str:
    return json.dumps(answer | fields)


def _with_response(answer: Answer, **fields: Any) -> str:
    response = {k: v for k, v in (answer["response"] | fields).items() if v is not None}
    return json.dumps(answer | {"response": response})


def _with_client_data(answer: Answer, client_data: bytes) -> str:
    return _with_response(answer, clientDataJSON=b64u_encode(client_data))


# The envelope: refused by credential_id_of and verify_assertion alike.
ENVELOPE: list[Any] = [
    pytest.param(lambda a: "not json", "^the credential is not JSON$", id="not-json"),
    pytest.param(lambda a: json.dumps([a]), "^the credential is not a JSON object$", id="json-list"),
    pytest.param(lambda a: "42", "^the credential is not a JSON object$", id="json-number"),
    pytest.param(lambda a: "[" * 8_000 + "]" * 8_000, "^the credential is not JSON$", id="deeply-nested"),
    pytest.param(lambda a: _with(a, pad="x" * 20 * 1024), f"larger than {MAX_CREDENTIAL_JSON} characters", id="20-KiB"),
    pytest.param(lambda a: _with(a, response=None), '^the credential has no "response" object$', id="no-response"),
    pytest.param(lambda a: _with(a, rawId="!!not-b64!!"), '^"rawId" is not base64url$', id="bad-base64url-rawId"),
    pytest.param(lambda a: _with(a, rawId="AAAAA"), '^"rawId" is not base64url$', id="rawId-bad-length"),
    pytest.param(lambda a: _with(a, rawId=None), '^the credential has no "rawId" text$', id="no-rawId"),
    pytest.param(lambda a: _with(a, rawId=""), '^"rawId" is empty$', id="empty-rawId"),
    pytest.param(lambda a: _with(a, rawId=b64u_encode(bytes(1024))), "longer than 1023 bytes", id="long-rawId"),
    pytest.param(lambda a: _with(a, id=b64u_encode(b"other")), '"id" does not match its "rawId"', id="id-mismatch"),
    pytest.param(lambda a: _with(a, type="password"), '"type" is not "public-key"', id="wrong-type"),
    pytest.param(lambda a: _with_response(a, signature=None), '"response" has no "signature" text', id="no-signature"),
    pytest.param(lambda a: _with_response(a, signature=""), '^"signature" is empty$', id="empty-signature"),
    pytest.param(
        lambda a: _with_response(a, clientDataJSON="e30=*"), '^"clientDataJSON" is not base64url$', id="bad-b64-cdj"
    ),
    pytest.param(lambda a: _with_response(a, authenticatorData=7), '"authenticatorData" text', id="number-field"),
]

# The contents: only verify_assertion looks inside.
CONTENTS: list[Any] = [
    pytest.param(lambda a: _with_client_data(a, b"\xff\xfe"), "^clientDataJSON is not JSON$", id="cdj-not-utf8"),
    pytest.param(lambda a: _with_client_data(a, b"[]"), "^clientDataJSON is not a JSON object$", id="cdj-list"),
    pytest.param(
        lambda a: _with_client_data(a, b'{"type":"webauthn.get","origin":"x"}'),
        '^clientDataJSON has no "challenge" text$',
        id="cdj-no-challenge",
    ),
    pytest.param(
        lambda a: _with_client_data(a, b'{"type":"webauthn.get","challenge":"a*b","origin":"x"}'),
        "^clientDataJSON's challenge is not base64url$",
        id="cdj-bad-challenge",
    ),
    pytest.param(
        lambda a: _with_response(a, authenticatorData=b64u_encode(bytes(36))),
        "^authenticatorData is malformed$",
        id="short-authenticatorData",
    ),
]


@pytest.mark.parametrize(("edit", "message"), ENVELOPE + CONTENTS)
def test_verify_assertion_refuses_malformed_input(device: Device, edit: Callable[[Answer], str], message: str) -> None:
    challenge = nonce()
    with pytest.raises(InvalidInput, match=message):
        device.verify(edit(device.sign(challenge)), challenge)


@pytest.mark.parametrize(("edit", "message"), ENVELOPE)
def test_credential_id_of_refuses_malformed_input(edit: Callable[[Answer], str], message: str) -> None:
    device = Device.enrol(-7)
    with pytest.raises(InvalidInput, match=message):
        credential_id_of(edit(device.sign(nonce())))


def test_credential_id_of_names_the_device(device: Device) -> None:
    assert credential_id_of(json.dumps(device.sign(nonce()))) == device.dev.credential_id


def test_credential_id_of_wants_text() -> None:
    with pytest.raises(InvalidInput, match=r"^the credential must be JSON text$"):
        credential_id_of(b"{}")  # type: ignore[arg-type]


# --- arguments the server passes ----------------------------------------------------------------------


def _register_with(**overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "rp_id": RP_ID,
        "rp_name": "TPP registry",
        "user_name": "ann",
        "user_handle": HANDLE,
        "challenge": nonce(),
        "exclude": [],
    }
    return registration_options(**(arguments | overrides))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # py_webauthn replaces an empty challenge with a random one: the approval would bind nothing.
        pytest.param(lambda: _register_with(challenge=b""), "at least 16 bytes", id="registration-empty"),
        pytest.param(
            lambda: assertion_options(rp_id=RP_ID, challenge=b"", credential_ids=[b"\x01"]),
            "at least 16",
            id="assertion-empty",
        ),
        pytest.param(
            lambda: assertion_options(rp_id=RP_ID, challenge="x" * 32, credential_ids=[b"\x01"]),  # type: ignore[arg-type]
            "at least 16",
            id="text",
        ),
        pytest.param(lambda: _register_with(challenge=bytes(15)), "at least 16 bytes", id="15-bytes"),
        pytest.param(lambda: _register_with(user_handle=b""), "user_handle must be 1 to 64 bytes", id="empty-handle"),
        pytest.param(
            lambda: _register_with(user_handle=bytes(65)), "user_handle must be 1 to 64 bytes", id="long-handle"
        ),
        pytest.param(lambda: _register_with(exclude=[b""]), "^exclude must be a sequence", id="empty-id"),
        pytest.param(lambda: _register_with(exclude=["AAAA"]), "^exclude must be a sequence", id="text-id"),
        pytest.param(lambda: _register_with(exclude=b"\x01\x02"), "^exclude must be a sequence", id="bytes-not-list"),
        pytest.param(lambda: _register_with(rp_id=""), "^rp_id must be a non-empty string$", id="empty-rp-id"),
        pytest.param(lambda: _register_with(user_name=""), "^user_name must be a non-empty string$", id="no-name"),
        pytest.param(
            lambda: assertion_options(rp_id=RP_ID, challenge=nonce(), credential_ids=[b""]),
            "^credential_ids must be a sequence",
            id="empty-credential-id",
        ),
    ],
)
def test_options_refuse_bad_arguments(call: Callable[[], str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        call()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"challenge": b""}, "at least 16 bytes"),
        ({"sign_count": -1}, "^sign_count must be"),
        ({"sign_count": 2**32}, "^sign_count must be"),
        ({"sign_count": True}, "^sign_count must be"),
        ({"public_key": b"\x04"}, "^public_key is not a usable COSE public key$"),
        ({"public_key": cbor2.dumps([1])}, "^public_key is not a usable COSE public key$"),
        ({"origins": []}, "^origins must be a non-empty sequence"),
        ({"origins": "http://localhost:6543"}, "^origins must be a non-empty sequence"),
    ],
    ids=[
        "empty-challenge",
        "negative-count",
        "count-too-big",
        "bool-count",
        "key-0x04",
        "key-list",
        "no-origin",
        "origin-text",
    ],
)
def test_verify_assertion_refuses_bad_arguments(device: Device, overrides: dict[str, Any], message: str) -> None:
    challenge, overrides = nonce(), dict(overrides)  # the parameter dict is shared between devices
    with pytest.raises(InvalidInput, match=message):
        device.verify(device.sign(challenge), overrides.pop("challenge", challenge), **overrides)


def test_verify_registration_refuses_a_short_challenge() -> None:
    challenge = nonce()
    answer = json.dumps(answer_registration(SoftAuthenticator(), challenge))
    with pytest.raises(InvalidInput, match="at least 16 bytes"):
        verify_registration(credential=answer, challenge=b"", rp_id=RP_ID, origins=[ORIGIN])


def test_reverify_refuses_a_short_challenge(device: Device) -> None:
    challenge = nonce()
    record = stored(device.verify(device.sign(challenge), challenge), device, challenge)
    with pytest.raises(InvalidInput, match="at least 16 bytes"):
        reverify(**(record | {"challenge": hashlib.sha256(b"").digest()[:15]}))


# --- the module's surface -----------------------------------------------------------------------------


def test_rejections_are_tpp_errors_but_not_bad_input() -> None:
    assert issubclass(WebAuthnRejected, TPPError)
    assert not issubclass(WebAuthnRejected, ValueError)
    assert issubclass(InvalidInput, ValueError)


def test_public_surface_is_all() -> None:
    assert dir(webauthn) == sorted(webauthn.__all__)
