"""Software WebAuthn authenticator for tests, so approval flows run without a browser.

It consumes the JSON options that ``webauthn.options_to_json`` emits and returns the
``PublicKeyCredential.toJSON()`` shape that ``verify_*_response`` accepts, with knobs for
the attacks the server must reject (no user verification, foreign origin, replay)::

    dev = SoftAuthenticator(alg=-7)
    reg = dev.create(json.loads(options_to_json(reg_opts)), "http://localhost:6543")
    ver = verify_registration_response(credential=reg, expected_challenge=reg_opts.challenge, ...)
    assertion = dev.get(json.loads(options_to_json(auth_opts)), "http://localhost:6543")
    verify_authentication_response(credential=assertion, ..., credential_public_key=ver.credential_public_key)
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from collections.abc import Mapping
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from .encoding import b64u_decode, b64u_encode

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40
ALG_ES256 = -7
ALG_EDDSA = -8
ALG_RS256 = -257
_ALGORITHMS = (ALG_ES256, ALG_EDDSA, ALG_RS256)


class SoftAuthenticator:
    """One credential held in memory, signing like a platform authenticator with fmt "none"."""

    def __init__(
        self,
        *,
        alg: int = ALG_ES256,
        user_verifying: bool = True,
        counting: bool = True,
        aaguid: bytes = bytes(16),
    ) -> None:
        """Generate a fresh key and credential id so each instance is an independent device."""
        if alg not in _ALGORITHMS:
            raise ValueError(f"unsupported COSE algorithm {alg}; use -7, -8 or -257")
        if len(aaguid) != 16:
            raise ValueError("aaguid must be 16 bytes")
        self.alg = alg
        self.user_verifying = user_verifying
        self.counting = counting
        self.aaguid = aaguid
        self.sign_count = 0
        self.rp_id: str | None = None
        self.user_handle: bytes | None = None
        self._credential_id = secrets.token_bytes(32)
        self._key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
        if alg == ALG_ES256:
            self._key = ec.generate_private_key(ec.SECP256R1())
        elif alg == ALG_EDDSA:
            self._key = ed25519.Ed25519PrivateKey.generate()
        else:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def credential_id(self) -> bytes:
        """Raw credential id, for building allowCredentials or forging responses in tests."""
        return self._credential_id

    def _cose_public_key(self) -> bytes:
        """COSE_Key encoding, which is what attested credential data must carry."""
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            numbers = self._key.public_key().public_numbers()
            x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
            return cbor2.dumps({1: 2, 3: ALG_ES256, -1: 1, -2: x, -3: y})
        if isinstance(self._key, rsa.RSAPrivateKey):
            rsa_numbers = self._key.public_key().public_numbers()
            modulus = rsa_numbers.n.to_bytes((rsa_numbers.n.bit_length() + 7) // 8, "big")
            return cbor2.dumps({1: 3, 3: ALG_RS256, -1: modulus, -2: rsa_numbers.e.to_bytes(3, "big")})
        raw = self._key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return cbor2.dumps({1: 1, 3: ALG_EDDSA, -1: 6, -2: raw})

    def _flags(self, user_verified: bool) -> int:
        """UP is always set: a test authenticator stands for a present user."""
        return FLAG_UP | (FLAG_UV if user_verified else 0)

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        """clientDataJSON as a browser builds it; the challenge stays base64url text."""
        data = {
            "type": kind,
            "challenge": challenge,
            "origin": origin,
            "crossOrigin": False,
        }
        return json.dumps(data, separators=(",", ":")).encode()

    def create(self, options: Mapping[str, Any], origin: str) -> dict[str, Any]:
        """Answer ``navigator.credentials.create`` for JSON creation options."""
        rp_id = str(options["rp"]["id"])
        self.rp_id = rp_id
        user_id = options.get("user", {}).get("id")
        self.user_handle = b64u_decode(user_id) if user_id else None
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(self.user_verifying) | FLAG_AT])
            + struct.pack(">I", self.sign_count)
            + self.aaguid
            + struct.pack(">H", len(self._credential_id))
            + self._credential_id
            + self._cose_public_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return self._credential(
            {
                "clientDataJSON": b64u_encode(client_data),
                "attestationObject": b64u_encode(attestation),
                "transports": ["internal"],
            }
        )

    def get(
        self,
        options: Mapping[str, Any],
        origin: str,
        *,
        user_verified: bool | None = None,
    ) -> dict[str, Any]:
        """Answer ``navigator.credentials.get``; ``user_verified`` forces the UV flag for negative tests."""
        if self.counting:
            self.sign_count += 1
        uv = self.user_verifying if user_verified is None else user_verified
        auth_data = (
            hashlib.sha256(str(options["rpId"]).encode()).digest()
            + bytes([self._flags(uv)])
            + struct.pack(">I", self.sign_count)
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            signature = self._key.sign(signed, ec.ECDSA(hashes.SHA256()))
        elif isinstance(self._key, rsa.RSAPrivateKey):
            signature = self._key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        else:
            signature = self._key.sign(signed)
        response: dict[str, Any] = {
            "clientDataJSON": b64u_encode(client_data),
            "authenticatorData": b64u_encode(auth_data),
            "signature": b64u_encode(signature),
        }
        if self.user_handle is not None:
            response["userHandle"] = b64u_encode(self.user_handle)
        return self._credential(response)

    def _credential(self, response: dict[str, Any]) -> dict[str, Any]:
        """Wrap a response in the PublicKeyCredential JSON envelope; ``id`` must equal ``rawId``."""
        cred_id = b64u_encode(self._credential_id)
        return {
            "id": cred_id,
            "rawId": cred_id,
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
