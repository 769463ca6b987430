"""Prove SoftAuthenticator output is accepted (and tampering rejected) by real py_webauthn."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.authentication.verify_authentication_response import (
    VerifiedAuthentication,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import InvalidAuthenticationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

from tests.common.authenticator import SoftAuthenticator
from tests.common.encoding import b64u_decode, b64u_encode

RP_ID = "localhost"
ORIGIN = "http://localhost:6543"
USER_ID = b"tpp-user-0001"

ALGS = pytest.mark.parametrize("alg", [-7, -8], ids=["ES256", "Ed25519"])


@dataclass
class Registered:
    """An authenticator together with what the server stored when registering it."""

    dev: SoftAuthenticator
    ver: VerifiedRegistration


def register(dev: SoftAuthenticator) -> Registered:
    """Run a full registration ceremony, requiring UV as TPP does."""
    opts = generate_registration_options(
        rp_id=RP_ID,
        rp_name="TPP registry",
        user_name="alice",
        user_id=USER_ID,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        supported_pub_key_algs=[
            COSEAlgorithmIdentifier.ECDSA_SHA_256,
            COSEAlgorithmIdentifier.EDDSA,
        ],
    )
    response = dev.create(json.loads(options_to_json(opts)), ORIGIN)
    ver = verify_registration_response(
        credential=response,
        expected_challenge=opts.challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        require_user_verification=True,
    )
    return Registered(dev, ver)


def auth_options(reg: Registered, challenge: bytes) -> dict[str, Any]:
    """JSON authentication options as the approval page would hand them to the browser."""
    opts = generate_authentication_options(
        rp_id=RP_ID,
        challenge=challenge,
        allow_credentials=[PublicKeyCredentialDescriptor(id=reg.ver.credential_id)],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    result: dict[str, Any] = json.loads(options_to_json(opts))
    return result


def verify(
    reg: Registered,
    assertion: dict[str, Any],
    challenge: bytes,
    *,
    current_count: int | None = None,
) -> VerifiedAuthentication:
    """Server-side check with TPP's settings; defaults to the count stored at registration."""
    return verify_authentication_response(
        credential=assertion,
        expected_challenge=challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        credential_public_key=reg.ver.credential_public_key,
        credential_current_sign_count=(reg.ver.sign_count if current_count is None else current_count),
        require_user_verification=True,
    )


@pytest.fixture(params=[-7, -8], ids=["ES256", "Ed25519"])
def reg(request: pytest.FixtureRequest) -> Registered:
    return register(SoftAuthenticator(alg=request.param))


def test_base64url_is_unpadded_and_round_trips() -> None:
    for n in range(40):
        data = secrets.token_bytes(n)
        text = b64u_encode(data)
        assert not set(text) & set("=+/")
        assert b64u_decode(text) == data


@ALGS
def test_registration_verifies(alg: int) -> None:
    dev = SoftAuthenticator(alg=alg)
    reg = register(dev)
    assert reg.ver.fmt == "none"
    assert reg.ver.user_verified is True
    assert reg.ver.credential_id == dev.credential_id
    assert reg.ver.sign_count == 0
    assert reg.ver.aaguid == "00000000-0000-0000-0000-000000000000"
    assert dev.rp_id == RP_ID


def test_registration_response_shape() -> None:
    dev = SoftAuthenticator()
    opts = generate_registration_options(rp_id=RP_ID, rp_name="TPP", user_name="alice")
    response = dev.create(json.loads(options_to_json(opts)), ORIGIN)
    assert response["id"] == response["rawId"] == b64u_encode(dev.credential_id)
    assert response["response"]["transports"] == ["internal"]
    assert response["authenticatorAttachment"] == "platform"
    client_data = json.loads(b64u_decode(response["response"]["clientDataJSON"]))
    assert client_data["type"] == "webauthn.create"
    assert b64u_decode(client_data["challenge"]) == opts.challenge


def test_authentication_verifies_and_counter_increments(reg: Registered) -> None:
    count = reg.ver.sign_count
    for expected in (1, 2, 3):
        challenge = secrets.token_bytes(32)
        assertion = reg.dev.get(auth_options(reg, challenge), ORIGIN)
        v = verify(reg, assertion, challenge, current_count=count)
        assert v.user_verified is True
        assert v.credential_id == reg.dev.credential_id
        assert v.new_sign_count == expected
        count = v.new_sign_count


def test_user_handle_is_returned(reg: Registered) -> None:
    assertion = reg.dev.get(auth_options(reg, secrets.token_bytes(32)), ORIGIN)
    assert b64u_decode(assertion["response"]["userHandle"]) == USER_ID


def test_nonce_plus_digest_challenge_binds_manifest(reg: Registered) -> None:
    manifest = b'{"project":"pkg","tpp":"approval-v1","version":"1.0"}'
    nonce = secrets.token_bytes(32)
    challenge = nonce + hashlib.sha256(manifest).digest()
    assert len(challenge) == 64
    assertion = reg.dev.get(auth_options(reg, challenge), ORIGIN)
    assert verify(reg, assertion, challenge).new_sign_count == 1

    changed = nonce + hashlib.sha256(manifest.replace(b"1.0", b"1.1")).digest()
    with pytest.raises(InvalidAuthenticationResponse, match="challenge was not expected"):
        verify(reg, assertion, changed)


def test_no_user_verification_rejected(reg: Registered) -> None:
    challenge = secrets.token_bytes(32)
    assertion = reg.dev.get(auth_options(reg, challenge), ORIGIN, user_verified=False)
    with pytest.raises(InvalidAuthenticationResponse, match="User verification is required"):
        verify(reg, assertion, challenge)


def test_non_verifying_authenticator_rejected() -> None:
    dev = SoftAuthenticator(user_verifying=False)
    opts = generate_registration_options(rp_id=RP_ID, rp_name="TPP", user_name="alice")
    response = dev.create(json.loads(options_to_json(opts)), ORIGIN)
    ver = verify_registration_response(
        credential=response,
        expected_challenge=opts.challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
    )
    assert ver.user_verified is False
    reg = Registered(dev, ver)
    challenge = secrets.token_bytes(32)
    assertion = dev.get(auth_options(reg, challenge), ORIGIN)
    with pytest.raises(InvalidAuthenticationResponse, match="User verification is required"):
        verify(reg, assertion, challenge)


def test_wrong_origin_rejected(reg: Registered) -> None:
    challenge = secrets.token_bytes(32)
    assertion = reg.dev.get(auth_options(reg, challenge), "http://evil.example")
    with pytest.raises(InvalidAuthenticationResponse, match="Unexpected client data origin"):
        verify(reg, assertion, challenge)


def test_replay_rejected_by_sign_count(reg: Registered) -> None:
    challenge = secrets.token_bytes(32)
    assertion = reg.dev.get(auth_options(reg, challenge), ORIGIN)
    first = verify(reg, assertion, challenge)
    with pytest.raises(InvalidAuthenticationResponse, match="was not greater than current count"):
        verify(reg, assertion, challenge, current_count=first.new_sign_count)


@ALGS
def test_non_counting_authenticator_reports_zero(alg: int) -> None:
    reg = register(SoftAuthenticator(alg=alg, counting=False))
    challenge = secrets.token_bytes(32)
    assertion = reg.dev.get(auth_options(reg, challenge), ORIGIN)
    # The same assertion passes twice: a zero counter cannot stop replay, only single-use challenges can.
    for _ in range(2):
        assert verify(reg, assertion, challenge, current_count=0).new_sign_count == 0


def test_tampered_signature_rejected(reg: Registered) -> None:
    challenge = secrets.token_bytes(32)
    assertion = reg.dev.get(auth_options(reg, challenge), ORIGIN)
    signature = bytearray(b64u_decode(assertion["response"]["signature"]))
    signature[-1] ^= 0x01
    assertion["response"]["signature"] = b64u_encode(bytes(signature))
    with pytest.raises(InvalidAuthenticationResponse, match="Could not verify authentication signature"):
        verify(reg, assertion, challenge)


def test_other_device_signature_rejected(reg: Registered) -> None:
    """A different key claiming the registered credential id must not verify."""
    challenge = secrets.token_bytes(32)
    forged = SoftAuthenticator(alg=reg.dev.alg).get(auth_options(reg, challenge), ORIGIN)
    forged["id"] = forged["rawId"] = b64u_encode(reg.dev.credential_id)
    with pytest.raises(InvalidAuthenticationResponse, match="Could not verify authentication signature"):
        verify(reg, forged, challenge)
