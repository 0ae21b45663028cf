"""Signing keys of execution tokens: HS256 secret, or an RS256/ES256 private key with a JWKS.

This module imports neither models nor settings at import time, so ``settings.py`` can call
:func:`check_execution_key_config` to refuse published keys before Django starts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ImproperlyConfigured
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

DERIVATION_SALT = b"mozaiks.execution-token.v1"

# Published in docs/accounts.md so external runtimes can be tried locally. Refused in production.
DEMO_PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMJEk9JXKENX3+HrL
xMF3YUQPm3+ZEwlwRysmq8ctECmhRANCAAT+95sS52OaLixrys5yYkd0NlDmuBI2
ZyC4lpFLwJDdwCM0AWWCyKHlv28FKKpD9zrHUMbj3lqlpPrNR25Hpgrn
-----END PRIVATE KEY-----
"""


class KeyConfigError(ImproperlyConfigured):
    """The execution token key settings are unusable; the message says how to fix them."""


@dataclass(frozen=True)
class SigningKey:
    """How execution tokens are signed and verified right now."""

    algorithm: str
    signing_key: Any
    verification_key: Any
    kid: str
    public_jwk: dict[str, Any] | None


def read_private_key(value: str, *, name: str = "MOZAIKS_EXECUTION_TOKEN_PRIVATE_KEY") -> Any:
    """Load a PEM private key given inline (``-----BEGIN ...``) or as a file path."""
    text = value.strip()
    if not text.startswith("-----BEGIN"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise KeyConfigError(f"{name} is neither a PEM key nor a readable file: {text[:80]!r}.")
        text = path.read_text()
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise KeyConfigError(f"{name} is not an unencrypted PEM private key ({error}).") from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise KeyConfigError(f"{name} is a {key.key_size}-bit RSA key; use 2048 bits or more.")
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise KeyConfigError(f"{name} must be an RSA (RS256) or P-256 EC (ES256) private key.")


def _kid(public_key: Any) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:12]).decode().rstrip("=")


def is_demo_key(private_key: Any) -> bool:
    """Whether private_key is the published demo key."""
    return _kid(private_key.public_key()) == _kid(read_private_key(DEMO_PRIVATE_KEY_PEM).public_key())


@lru_cache(maxsize=8)
def build_signing_key(secret: str, private_key: str, secret_key: str) -> SigningKey:
    """The signing key for these settings values (cached: parsing PEM is not free)."""
    if private_key:
        key = read_private_key(private_key)
        public = key.public_key()
        if isinstance(key, rsa.RSAPrivateKey):
            algorithm, jwk = "RS256", RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            algorithm, jwk = "ES256", ECAlgorithm.to_jwk(public, as_dict=True)
        kid = _kid(public)
        jwk.update(kid=kid, alg=algorithm, use="sig")
        return SigningKey(algorithm, key, public, kid, jwk)
    if not secret:
        secret = hmac.new(secret_key.encode(), DERIVATION_SALT, hashlib.sha256).hexdigest()
    kid = hashlib.sha256(b"kid:" + secret.encode()).hexdigest()[:16]
    return SigningKey("HS256", secret, secret, kid, None)


def check_execution_key_config(*, secret: str, private_key: str, production: bool, published: frozenset[str]) -> None:
    """Refuse unusable keys always, and published or weak keys in production mode."""
    if private_key:
        key = read_private_key(private_key)
        if production and is_demo_key(key):
            raise KeyConfigError(
                "MOZAIKS_EXECUTION_TOKEN_PRIVATE_KEY is the published demo key and DEBUG is false; generate your "
                "own (openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt)."
            )
        return
    if production and secret and (secret in published or len(secret) < 32):
        raise KeyConfigError(
            "MOZAIKS_EXECUTION_TOKEN_KEY is a published or short value and DEBUG is false; set 32+ random "
            "characters, or leave it unset to derive a key from SECRET_KEY."
        )
