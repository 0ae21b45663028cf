"""Execution tokens: HS256 and RS256/ES256 signing, JWKS, and every way a token can be wrong."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.test import Client

from mozaiks_core.auth.keys import DEMO_PRIVATE_KEY_PEM, KeyConfigError, check_execution_key_config
from mozaiks_core.auth.tokens import (
    ExecutionTokenError,
    assert_claims_match,
    current_signing_key,
    issue_execution_token,
    verify_execution_token,
)

CLAIMS = {"user_id": 7, "organization_id": 3, "app_id": "mozaiks-demo", "chat_id": "c-1", "workflow": "Hello"}


def _pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture
def es256(settings) -> str:
    settings.MOZAIKS_EXECUTION_TOKEN_PRIVATE_KEY = _pem(ec.generate_private_key(ec.SECP256R1()))
    return settings.MOZAIKS_EXECUTION_TOKEN_PRIVATE_KEY


def _tamper(token: str, **changes) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def _code(token: str, **kwargs) -> str:
    with pytest.raises(ExecutionTokenError) as caught:
        verify_execution_token(token, **kwargs)
    return caught.value.code


def test_an_hs256_token_round_trips_its_claims_without_a_configured_key() -> None:
    token = issue_execution_token(**CLAIMS, capability="hello", plan="free")
    claims = verify_execution_token(token)
    assert (claims.user_id, claims.organization_id, claims.workflow, claims.plan) == ("7", "3", "Hello", "free")
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert claims.expires_at - claims.issued_at == 15 * 60


def test_tampered_claims_are_refused() -> None:
    token = issue_execution_token(**CLAIMS)
    assert _code(_tamper(token, chat_id="someone-elses-chat")) == "TOKEN_INVALID"
    assert _code(token[:-4] + "AAAA") == "TOKEN_INVALID"


def test_an_expired_token_is_refused(settings) -> None:
    settings.MOZAIKS_EXECUTION_TOKEN_MINUTES = 1
    token = issue_execution_token(**CLAIMS)
    claims = verify_execution_token(token)
    key = current_signing_key()
    payload = jwt.decode(token, key.verification_key, algorithms=["HS256"], audience="mozaiks-runtime")
    payload.update(iat=int(time.time()) - 200, exp=int(time.time()) - 100)
    stale = jwt.encode(payload, key.signing_key, algorithm="HS256")
    assert claims.chat_id == "c-1"
    assert _code(stale) == "TOKEN_EXPIRED"


def test_a_token_for_another_audience_is_refused(settings) -> None:
    token = issue_execution_token(**CLAIMS)
    assert _code(token, audience="another-runtime") == "TOKEN_AUDIENCE"
    settings.MOZAIKS_EXECUTION_TOKEN_AUDIENCE = "runtime-b"
    assert _code(token) == "TOKEN_AUDIENCE"


def test_a_token_signed_with_another_secret_or_the_none_algorithm_is_refused(settings) -> None:
    token = issue_execution_token(**CLAIMS)
    settings.MOZAIKS_EXECUTION_TOKEN_KEY = "a-different-32-character-secret-value!"
    assert _code(token) == "TOKEN_INVALID"
    unsigned = jwt.encode(jwt.decode(token, options={"verify_signature": False}), None, algorithm="none")
    assert _code(unsigned) == "TOKEN_INVALID"


def test_lifetime_is_clamped_to_one_to_sixty_minutes(settings) -> None:
    settings.MOZAIKS_EXECUTION_TOKEN_MINUTES = 600
    long = verify_execution_token(issue_execution_token(**CLAIMS))
    assert long.expires_at - long.issued_at == 3600
    settings.MOZAIKS_EXECUTION_TOKEN_MINUTES = 0
    short = verify_execution_token(issue_execution_token(**CLAIMS))
    assert short.expires_at - short.issued_at == 60


def test_a_token_claiming_a_lifetime_over_an_hour_is_refused() -> None:
    key = current_signing_key()
    token = issue_execution_token(**CLAIMS)
    payload = jwt.decode(token, key.verification_key, algorithms=["HS256"], audience="mozaiks-runtime")
    payload["exp"] = payload["iat"] + 7200
    assert _code(jwt.encode(payload, key.signing_key, algorithm="HS256")) == "TOKEN_INVALID"


def test_claims_must_match_the_user_app_chat_and_workflow_of_the_socket() -> None:
    claims = verify_execution_token(issue_execution_token(**CLAIMS))
    assert_claims_match(claims, user_id=7, app_id="mozaiks-demo", chat_id="c-1", workflow="Hello")
    for field, wrong in {"user_id": 8, "app_id": "other", "chat_id": "c-2", "workflow": "Goodbye"}.items():
        expected = {"user_id": 7, "app_id": "mozaiks-demo", "chat_id": "c-1", "workflow": "Hello", field: wrong}
        with pytest.raises(ExecutionTokenError) as caught:
            assert_claims_match(claims, **expected)
        assert caught.value.code == "TOKEN_MISMATCH"
        assert field.replace("_id", "") in caught.value.message


def test_es256_tokens_verify_with_the_key_published_at_the_jwks_endpoint(db, es256) -> None:
    token = issue_execution_token(**CLAIMS)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    document = Client().get("/.well-known/jwks.json").json()
    (jwk,) = document["keys"]
    assert jwk["kid"] == header["kid"]
    public = jwt.PyJWK(jwk).key
    decoded = jwt.decode(token, public, algorithms=["ES256"], audience="mozaiks-runtime")
    assert decoded["token_use"] == "execution"
    assert decoded["workflow"] == "Hello"
    assert verify_execution_token(token).workflow == "Hello"


def test_rs256_keys_are_accepted_from_a_file(settings, tmp_path) -> None:
    path = tmp_path / "runtime.pem"
    path.write_text(_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    settings.MOZAIKS_EXECUTION_TOKEN_PRIVATE_KEY = str(path)
    token = issue_execution_token(**CLAIMS)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert verify_execution_token(token).chat_id == "c-1"


def test_an_hs256_token_is_refused_once_an_asymmetric_key_is_configured(settings) -> None:
    hs_token = issue_execution_token(**CLAIMS)
    settings.MOZAIKS_EXECUTION_TOKEN_PRIVATE_KEY = DEMO_PRIVATE_KEY_PEM
    assert _code(hs_token) == "TOKEN_INVALID"


def test_the_jwks_endpoint_publishes_nothing_for_a_shared_secret(db) -> None:
    assert Client().get("/.well-known/jwks.json").json() == {"keys": []}


def test_production_refuses_the_published_demo_key_and_weak_secrets() -> None:
    with pytest.raises(KeyConfigError, match="published demo key"):
        check_execution_key_config(secret="", private_key=DEMO_PRIVATE_KEY_PEM, production=True, published=frozenset())
    check_execution_key_config(secret="", private_key=DEMO_PRIVATE_KEY_PEM, production=False, published=frozenset())
    with pytest.raises(KeyConfigError, match="published or short"):
        check_execution_key_config(secret="change-me", private_key="", production=True,
                                   published=frozenset({"change-me"}))
    with pytest.raises(KeyConfigError, match="neither a PEM key nor a readable file"):
        check_execution_key_config(secret="", private_key="/nope/key.pem", production=False, published=frozenset())
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(KeyConfigError, match="2048"):
        check_execution_key_config(secret="", private_key=_pem(small), production=False, published=frozenset())


def test_a_bearer_execution_token_authenticates_only_its_chats_surface(make_user, make_team) -> None:
    user = make_user()
    team = make_team(user, name="Runners")
    token = issue_execution_token(**{**CLAIMS, "user_id": user.pk, "organization_id": team.pk})
    chat_route = f"/api/chats/exists/{CLAIMS['app_id']}/{CLAIMS['chat_id']}"
    exists = Client().get(chat_route, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert exists.status_code == 200, "the token authenticates on its chat's routes"
    assert exists.json()["exists"] is False
    for path in ("/api/me", f"/api/orgs/{team.pk}/api-keys", f"/api/orgs/{team.pk}/members"):
        refused = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert refused.status_code == 403, path
        assert refused.json()["error"] == "TOKEN_SCOPE", "an execution token runs its chat; it never manages"
    forged = _tamper(token, organization=str(team.pk + 1000))
    refused = Client().get(chat_route, HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert refused.status_code == 401
    assert "invalid" in refused.json()["detail"]
