"""WebAuthn ceremonies: the only module that imports py_webauthn (``webauthn`` on PyPI).

Enrol a device, then approve with it; the approval's challenge is ``nonce || sha256(manifest)``
(invariant I2), so the server rebuilds it from what it stores *now* when the answer comes back::

    options = registration_options(rp_id="registry.example", rp_name="Example registry", user_name="ann",
                                   user_handle=person.handle, challenge=secrets.token_bytes(32),
                                   exclude=[d.credential_id for d in person.devices])
    device = verify_registration(credential=body, challenge=stored_challenge,
                                 rp_id="registry.example", origins=["https://registry.example"])

    options = assertion_options(rp_id="registry.example", challenge=make_challenge(nonce, manifest),
                                credential_ids=[d.credential_id for d in person.devices])
    device = devices_by_id[credential_id_of(body)]
    approval = verify_assertion(credential=body, challenge=make_challenge(nonce, manifest_now),
                                rp_id="registry.example", origins=["https://registry.example"],
                                public_key=device.public_key, sign_count=device.sign_count)
    # store approval.client_data_json, .authenticator_data and .signature; an auditor later runs
    reverify(client_data_json=..., authenticator_data=..., signature=..., public_key=device.public_key,
             challenge=make_challenge(nonce, manifest), rp_id="registry.example", origins=["https://registry.example"])

Why a wrapper: py_webauthn 3.0.1's defaults are unsafe for approvals. User verification is only
"preferred" and not enforced unless asked; an empty challenge is silently replaced by a random one; an
empty allow-list lets any discoverable credential answer; any RSA key size is taken; and malformed input
can escape as ``KeyError``, ``IndexError`` or ``RecursionError``, or register an unusable public key. Here UV and our
challenge are required, input is parsed strictly before py_webauthn sees it, and its exceptions become
:class:`WebAuthnRejected` (a message safe to show) or :class:`~tpp_core.errors.InvalidInput`.

Counters do not stop replays (many authenticators always report 0): each challenge must be single-use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    parse_authenticator_data,
    verify_signature,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tpp_core.errors import InvalidInput, TPPError

__all__ = [
    "MAX_CREDENTIAL_JSON",
    "RegisteredCredential",
    "VerifiedAssertion",
    "WebAuthnRejected",
    "assertion_options",
    "credential_id_of",
    "registration_options",
    "reverify",
    "verify_assertion",
    "verify_registration",
]

#: Characters of credential JSON we parse at most. A real answer is 1-3 KiB (attestation certificates
#: included); the bound keeps a hostile body from costing memory or recursion.
MAX_CREDENTIAL_JSON = 16 * 1024

# ES256 first (py_webauthn 3 puts EdDSA first); RS256 for Windows Hello and security keys that have
# nothing else (browsers warn when it is missing), with keys of at least 2048 bits.
_ALGORITHMS = (
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
)
_MIN_RSA_BITS = 2048
_PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey
_MIN_CHALLENGE = 16  # WebAuthn: challenges SHOULD hold at least 16 random bytes
_MAX_USER_HANDLE = 64  # WebAuthn: a user handle is 1 to 64 bytes
_MAX_CREDENTIAL_ID = 1023  # WebAuthn: RPs SHOULD refuse longer credential ids
_B64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_KINDS = {"webauthn.create": "a device registration", "webauthn.get": "a confirmation"}
_ASSERTION_FIELDS = ("clientDataJSON", "authenticatorData", "signature")
_REGISTRATION_FIELDS = ("clientDataJSON", "attestationObject")

_ANOTHER_REQUEST = "this confirmation was made for another page or request; reload the page and try again"
_UV_REQUIRED = "user verification (PIN or biometrics) is required"
_UP_REQUIRED = "user presence (touching the security key) is required"
_WRONG_SITE = "the security key answered for another site"
_BAD_SIGNATURE = "the security key's signature does not match"
_NOT_VERIFIED = "the security key's answer could not be verified"

# py_webauthn signals every failure with one exception class per ceremony; its message says which check
# failed. We run the checks we can ourselves first, so their messages say more; py_webauthn repeats them.
_REJECTIONS = (
    ("Client data challenge was not expected challenge", _ANOTHER_REQUEST),
    ("Unexpected client data origin", "unexpected origin: this answer was made on another web site"),
    ("User verification is required", _UV_REQUIRED),
    ("User presence was required", _UP_REQUIRED),
    ("User was not present", _UP_REQUIRED),
    ("Unexpected RP ID hash", _WRONG_SITE),
    ("Response sign count", "the security key's counter did not advance: this answer was already used, or copied"),
    ("Could not verify authentication signature", _BAD_SIGNATURE),
    (
        "Unsupported credential public key alg",
        "this security key's algorithm is not supported; use ES256, Ed25519 or RS256",
    ),
)


class WebAuthnRejected(TPPError):
    """Raised when a registration or assertion does not verify; the message is safe to show the user.

    py_webauthn's own message, when there is one, is the ``__cause__``, for logs.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisteredCredential:
    """What to store for a newly enrolled device; ``public_key`` is the COSE key the device signs with."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    backed_up: bool
    device_type: str  # "single_device" or "multi_device" (a synced passkey)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedAssertion:
    """A verified answer: store ``new_sign_count`` on the device and the raw fields with the approval.

    The raw fields are exactly what the device signed, so anyone can :func:`reverify` it later (I2).
    """

    credential_id: bytes
    new_sign_count: int
    client_data_json: bytes
    authenticator_data: bytes
    signature: bytes
    user_verified: bool


def registration_options(
    *,
    rp_id: str,
    rp_name: str,
    user_name: str,
    user_handle: bytes,
    challenge: bytes,
    exclude: Sequence[bytes],
) -> str:
    """Options JSON for ``navigator.credentials.create``: UV required, no attestation, ES256, Ed25519 or RS256.

    ``exclude`` holds the credential ids of the person's devices, so one device is not enrolled twice.

    :raises InvalidInput: if a name is empty, the handle is not 1-64 bytes, the challenge is shorter than
        16 bytes or an id is not bytes.
    """
    _require_text(rp_id=rp_id, rp_name=rp_name, user_name=user_name)
    if not isinstance(user_handle, bytes) or not 0 < len(user_handle) <= _MAX_USER_HANDLE:
        raise InvalidInput(f"user_handle must be 1 to {_MAX_USER_HANDLE} bytes")
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_name,
        user_name=user_name,
        user_id=user_handle,
        challenge=_require_challenge(challenge),
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(exclude, name="exclude"),
        supported_pub_key_algs=list(_ALGORITHMS),
    )
    return options_to_json(options)


def verify_registration(
    *, credential: str, challenge: bytes, rp_id: str, origins: Sequence[str]
) -> RegisteredCredential:
    """Verify the JSON answer to :func:`registration_options`, with user verification required.

    :raises InvalidInput: if the credential is malformed or larger than :data:`MAX_CREDENTIAL_JSON`.
    :raises WebAuthnRejected: if it does not verify (challenge, origin, site, UV, algorithm, attestation).
    """
    _require_text(rp_id=rp_id)
    _require_origins(origins)
    _require_challenge(challenge)
    parsed = _parse_credential(credential, fields=_REGISTRATION_FIELDS)
    _check_client_data(parsed.fields["clientDataJSON"], kind="webauthn.create", challenge=challenge, origins=origins)
    try:
        verified = verify_registration_response(
            credential=parsed.document,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=list(origins),
            require_user_presence=True,
            require_user_verification=True,
            supported_pub_key_algs=list(_ALGORITHMS),
        )
    except WebAuthnException as error:
        raise _translate(error) from error
    except (KeyError, TypeError, ValueError, IndexError) as error:
        # py_webauthn 3.0.1 decodes the attested COSE key outside its try blocks (a map without kty)
        raise InvalidInput("the security key sent a malformed public key") from error
    # ... and accepts a bare CBOR integer 4 as an "uncompressed" P-256 key that can never verify anything.
    _load_public_key(verified.credential_public_key, what="the security key's public key")
    if verified.credential_id != parsed.credential_id:
        raise WebAuthnRejected("the security key registered another credential than the one it named")
    return RegisteredCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        backed_up=verified.credential_backed_up,
        device_type=verified.credential_device_type.value,
    )


def assertion_options(*, rp_id: str, challenge: bytes, credential_ids: Sequence[bytes]) -> str:
    """Options JSON for ``navigator.credentials.get``, with UV required and only these devices allowed.

    :raises InvalidInput: if ``credential_ids`` is empty (an empty allow-list lets *any* discoverable
        credential answer), an id is not bytes, or the challenge is shorter than 16 bytes.
    """
    _require_text(rp_id=rp_id)
    if not credential_ids:
        raise InvalidInput("no device can sign this: the list of credential ids is empty")
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=_require_challenge(challenge),
        allow_credentials=_descriptors(credential_ids, name="credential_ids"),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options)


def credential_id_of(credential: str) -> bytes:
    """The raw credential id of an assertion, so the caller can find the device before verifying.

    The envelope (JSON shape, base64url fields, ``id`` equal to ``rawId``) is checked as strictly as
    :func:`verify_assertion` checks it. Nothing is verified: the id is only a claim until then.

    :raises InvalidInput: if the credential is malformed.
    """
    return _parse_credential(credential, fields=_ASSERTION_FIELDS).credential_id


def verify_assertion(
    *,
    credential: str,
    challenge: bytes,
    rp_id: str,
    origins: Sequence[str],
    public_key: bytes,
    sign_count: int,
) -> VerifiedAssertion:
    """Verify the JSON answer to :func:`assertion_options` against a device's stored key and counter.

    Whatever it accepts, :func:`reverify` accepts too: both run the same checks on clientDataJSON and
    authenticatorData. This one also checks that the counter advanced (when the device counts at all).

    :raises InvalidInput: if the credential is malformed, or the stored key or counter is unusable.
    :raises WebAuthnRejected: if it does not verify (challenge, origin, site, UV, counter, signature).
    """
    _require_text(rp_id=rp_id)
    _require_origins(origins)
    _require_challenge(challenge)
    _load_public_key(public_key, what="public_key")
    if isinstance(sign_count, bool) or not isinstance(sign_count, int) or not 0 <= sign_count < 2**32:
        raise InvalidInput("sign_count must be an integer from 0 to 2**32 - 1")
    parsed = _parse_credential(credential, fields=_ASSERTION_FIELDS)
    client_data_json, authenticator_data, signature = (parsed.fields[name] for name in _ASSERTION_FIELDS)
    _check_client_data(client_data_json, kind="webauthn.get", challenge=challenge, origins=origins)
    _check_authenticator_data(authenticator_data, rp_id=rp_id)
    try:
        verified = verify_authentication_response(
            credential=parsed.document,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=list(origins),
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
    except WebAuthnException as error:
        raise _translate(error) from error
    return VerifiedAssertion(
        credential_id=verified.credential_id,
        new_sign_count=verified.new_sign_count,
        client_data_json=client_data_json,
        authenticator_data=authenticator_data,
        signature=signature,
        user_verified=verified.user_verified,
    )


def reverify(
    *,
    client_data_json: bytes,
    authenticator_data: bytes,
    signature: bytes,
    public_key: bytes,
    challenge: bytes,
    rp_id: str,
    origins: Sequence[str],
) -> None:
    """Re-check a stored assertion offline, e.g. in an audit: is it a UV-confirmed answer to ``challenge``?

    The counter is not checked: it says whether an answer came after another, which is a question
    about history, not about this answer.

    :raises InvalidInput: if a stored field or the key is malformed.
    :raises WebAuthnRejected: if the type, challenge, origin, site, UP or UV flags or signature differ.
    """
    _require_text(rp_id=rp_id)
    _require_origins(origins)
    _require_challenge(challenge)
    for name, value in (
        ("client_data_json", client_data_json),
        ("authenticator_data", authenticator_data),
        ("signature", signature),
    ):
        if not isinstance(value, bytes):
            raise InvalidInput(f"{name} must be bytes")
    key, algorithm = _load_public_key(public_key, what="public_key")
    _check_client_data(client_data_json, kind="webauthn.get", challenge=challenge, origins=origins)
    _check_authenticator_data(authenticator_data, rp_id=rp_id)
    try:
        verify_signature(
            public_key=key,
            signature_alg=algorithm,
            signature=signature,
            data=authenticator_data + hashlib.sha256(client_data_json).digest(),
        )
    except InvalidSignature as error:
        raise WebAuthnRejected(_BAD_SIGNATURE) from error


@dataclass(frozen=True, slots=True)
class _Credential:
    credential_id: bytes
    fields: dict[str, bytes]  # the decoded response fields
    document: dict[str, Any]  # a clean copy for py_webauthn: only checked fields, canonical base64url


def _parse_credential(credential: str, *, fields: tuple[str, ...]) -> _Credential:
    """Check a ``PublicKeyCredential.toJSON()`` envelope strictly.

    py_webauthn's own parser drops characters outside the base64url alphabet and refuses
    authenticatorAttachment values it does not know; we parse first and hand it only what we checked.
    """
    if not isinstance(credential, str):
        raise InvalidInput("the credential must be JSON text")
    if len(credential) > MAX_CREDENTIAL_JSON:
        raise InvalidInput(f"the credential is larger than {MAX_CREDENTIAL_JSON} characters of JSON")
    try:
        document = json.loads(credential)
    except (ValueError, RecursionError):
        raise InvalidInput("the credential is not JSON") from None
    if not isinstance(document, dict):
        raise InvalidInput("the credential is not a JSON object")
    if document.get("type") != "public-key":
        raise InvalidInput('the credential\'s "type" is not "public-key"')
    credential_id = _decode_field(document, "rawId")
    if len(credential_id) > _MAX_CREDENTIAL_ID:
        raise InvalidInput(f'the credential\'s "rawId" is longer than {_MAX_CREDENTIAL_ID} bytes')
    encoded_id = _b64u_encode(credential_id)
    if document.get("id") != encoded_id:
        raise InvalidInput('the credential\'s "id" does not match its "rawId"')
    response = document.get("response")
    if not isinstance(response, dict):
        raise InvalidInput('the credential has no "response" object')
    decoded = {name: _decode_field(response, name, where='"response"') for name in fields}
    clean = {
        "id": encoded_id,
        "rawId": encoded_id,
        "type": "public-key",
        "response": {name: _b64u_encode(value) for name, value in decoded.items()},
    }
    return _Credential(credential_id=credential_id, fields=decoded, document=clean)


def _decode_field(container: dict[str, Any], name: str, *, where: str = "the credential") -> bytes:
    value = container.get(name)
    if not isinstance(value, str):
        raise InvalidInput(f'{where} has no "{name}" text')
    decoded = _b64u_decode(value, what=f'"{name}"')
    if not decoded:
        raise InvalidInput(f'"{name}" is empty')
    return decoded


def _check_client_data(client_data_json: bytes, *, kind: str, challenge: bytes, origins: Sequence[str]) -> None:
    """The checks on clientDataJSON, shared by live verification and :func:`reverify` so they agree."""
    try:
        data = json.loads(client_data_json.decode("utf-8"))
    except (ValueError, RecursionError):
        raise InvalidInput("clientDataJSON is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("clientDataJSON is not a JSON object")
    for name in ("type", "challenge", "origin"):
        if not isinstance(data.get(name), str):
            raise InvalidInput(f'clientDataJSON has no "{name}" text')
    if data["type"] != kind:
        found = _KINDS.get(data["type"], "an unknown kind of answer")
        raise WebAuthnRejected(f"the browser sent {found} where {_KINDS[kind]} was expected")
    if not hmac.compare_digest(_b64u_decode(data["challenge"], what="clientDataJSON's challenge"), challenge):
        raise WebAuthnRejected(_ANOTHER_REQUEST)
    if data["origin"] not in origins:
        raise WebAuthnRejected(
            f"unexpected origin: this answer was made on another web site, not {' or '.join(origins)}"
        )
    # Our pages are never meant to be framed; py_webauthn ignores crossOrigin, we refuse it.
    if data.get("crossOrigin", False) is not False:
        raise WebAuthnRejected("this answer was made inside another site's page")


def _check_authenticator_data(authenticator_data: bytes, *, rp_id: str) -> None:
    try:
        parsed = parse_authenticator_data(authenticator_data)
    except (WebAuthnException, ValueError) as error:
        raise InvalidInput("authenticatorData is malformed") from error
    if not hmac.compare_digest(parsed.rp_id_hash, hashlib.sha256(rp_id.encode("utf-8")).digest()):
        raise WebAuthnRejected(_WRONG_SITE)
    if not parsed.flags.up:
        raise WebAuthnRejected(_UP_REQUIRED)
    if not parsed.flags.uv:
        raise WebAuthnRejected(_UV_REQUIRED)


def _load_public_key(public_key: bytes, *, what: str) -> tuple[_PublicKey, COSEAlgorithmIdentifier]:
    """Decode a COSE key, refusing anything but a P-256 ES256, an Ed25519 or a 2048-bit (or longer)
    RS256 key.

    py_webauthn decodes keys without catching ``KeyError`` or ``ValueError``, so we do it up front.
    """
    if not isinstance(public_key, bytes) or not public_key:
        raise InvalidInput(f"{what} must be non-empty COSE key bytes")
    try:
        decoded = decode_credential_public_key(public_key)
        key = decoded_public_key_to_cryptography(decoded)
    except (WebAuthnException, KeyError, TypeError, ValueError, IndexError) as error:
        raise InvalidInput(f"{what} is not a usable COSE public key") from error
    match decoded.alg, key:
        case COSEAlgorithmIdentifier.ECDSA_SHA_256, ec.EllipticCurvePublicKey() if isinstance(key.curve, ec.SECP256R1):
            return key, COSEAlgorithmIdentifier(decoded.alg)
        case COSEAlgorithmIdentifier.EDDSA, ed25519.Ed25519PublicKey():
            return key, COSEAlgorithmIdentifier(decoded.alg)
        case COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256, rsa.RSAPublicKey() if key.key_size >= _MIN_RSA_BITS:
            return key, COSEAlgorithmIdentifier(decoded.alg)
    raise InvalidInput(f"{what} is not a P-256 ES256, an Ed25519 or an RS256 key of at least {_MIN_RSA_BITS} bits")


def _translate(error: WebAuthnException) -> TPPError:
    message = str(error)
    if message.endswith("was malformed. See __cause__ for more info"):
        return InvalidInput(f"{message.split()[0]} is malformed")
    for prefix, safe in _REJECTIONS:
        if message.startswith(prefix):
            return WebAuthnRejected(safe)
    return WebAuthnRejected(_NOT_VERIFIED)


def _require_challenge(challenge: bytes) -> bytes:
    # py_webauthn would replace an empty challenge with a random one, silently unbinding the approval.
    if not isinstance(challenge, bytes) or len(challenge) < _MIN_CHALLENGE:
        raise InvalidInput(f"a challenge must be at least {_MIN_CHALLENGE} bytes")
    return challenge


def _require_text(**values: str) -> None:
    for name, value in values.items():
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"{name} must be a non-empty string")


def _require_origins(origins: Sequence[str]) -> None:
    if isinstance(origins, str) or not origins or not all(isinstance(o, str) and o for o in origins):
        raise InvalidInput("origins must be a non-empty sequence of non-empty strings")


def _descriptors(ids: Sequence[bytes], *, name: str) -> list[PublicKeyCredentialDescriptor]:
    if isinstance(ids, (bytes, str)) or not all(isinstance(i, bytes) and i for i in ids):
        raise InvalidInput(f"{name} must be a sequence of non-empty credential ids (bytes)")
    return [PublicKeyCredentialDescriptor(id=i) for i in ids]


def _b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64u_decode(text: str, *, what: str) -> bytes:
    """Strict base64url: padding optional, nothing outside the alphabet (the stdlib would skip it)."""
    stripped = text.rstrip("=")
    if not _B64URL.fullmatch(text) or len(stripped) % 4 == 1:
        raise InvalidInput(f"{what} is not base64url")
    # The pattern and the length check leave nothing for the decoder to refuse.
    return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))


def __dir__() -> list[str]:
    return __all__
