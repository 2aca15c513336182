"""Event envelopes (build, parse, refuse) and platform tokens (issue, verify, shape) — no server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from litestar.exceptions import NotAuthorizedException
from pydantic import ValidationError
from shared.auth import ALGORITHM, PlatformToken, check_token_shape, decode_token, issue_token
from shared.events import (
    PDF_GENERATED,
    PDF_REQUESTED,
    PdfFailedV1,
    PdfGeneratedV1,
    UnsupportedSchemaVersion,
    current_event,
    new_event,
    parse_event,
    payload_type,
)
from shared.settings import BaseServiceSettings

EMPRESA = "665f1c2e8a4b2c0012345678"


def generated(job_id: str = "job-0001") -> PdfGeneratedV1:
    return PdfGeneratedV1(
        job_id=job_id, kind="pi", source_id="pi-1", document_id="d" * 24, filename="pi.pdf",
        sha256="a" * 64, size_bytes=10, pages=1,
    )  # fmt: skip


def wire(**overrides) -> dict:
    data = new_event(generated(), empresa_id=EMPRESA).model_dump(mode="json")
    data.update(overrides)
    return data


# --- envelopes -------------------------------------------------------------------------------------
def test_an_event_round_trips_through_json_bytes_and_dicts():
    event = new_event(generated(), empresa_id=EMPRESA, correlation_id="req-1")
    text = event.model_dump_json()
    assert json.loads(text)["type"] == PDF_GENERATED and json.loads(text)["data"]["jobId"] == "job-0001"
    for raw in (text, text.encode(), json.loads(text)):
        back = parse_event(raw)
        assert back == event and isinstance(back.data, PdfGeneratedV1)


def test_events_published_while_handling_one_are_linked_to_it():
    parent = new_event(generated(), empresa_id=EMPRESA, correlation_id="req-9")
    token = current_event.set(parent)
    try:
        child = new_event(
            PdfFailedV1(job_id="job-0002", kind="pi", source_id="s", error="boom", attempts=1),
            empresa_id=EMPRESA,
        )
    finally:
        current_event.reset(token)
    assert child.correlation_id == "req-9" and child.causation_id == parent.event_id


def test_an_unknown_event_type_is_refused():
    with pytest.raises(KeyError, match="unknown event type"):
        parse_event(wire(type="pdf.exploded"))


def test_an_unsupported_schema_version_names_the_known_ones():
    with pytest.raises(UnsupportedSchemaVersion, match=r"known: \[1\]"):
        parse_event(wire(schemaVersion=99))
    assert payload_type(PDF_REQUESTED).event_type == PDF_REQUESTED


@pytest.mark.parametrize(
    "override",
    [
        {"eventId": "has spaces"},
        {"empresaId": ""},
        {"correlationId": "x" * 200},
        {"unexpected": 1},
    ],
)
def test_malformed_envelopes_are_refused(override):
    with pytest.raises(ValidationError):
        parse_event(wire(**override))


def test_a_payload_with_an_unknown_field_is_refused():
    raw = wire()
    raw["data"]["surprise"] = True
    with pytest.raises(ValidationError):
        parse_event(raw)


def test_envelopes_are_immutable():
    event = new_event(generated(), empresa_id=EMPRESA)
    with pytest.raises(ValidationError):
        event.empresa_id = "other"  # type: ignore[misc]


# --- tokens ----------------------------------------------------------------------------------------
@pytest.fixture
def settings() -> BaseServiceSettings:
    return BaseServiceSettings(environment="test", jwt_secret="unit-secret-" + "x" * 32)


def test_an_access_token_carries_who_which_empresa_and_which_role(settings):
    encoded, ttl = issue_token(settings, user_id="u1", empresa_id=EMPRESA, role="admin", typ="access")
    assert ttl == settings.access_token_ttl_seconds
    token = decode_token(settings, encoded, "access")
    assert (token.sub, token.empresa_id, token.role, token.typ) == ("u1", EMPRESA, "admin", "access")
    assert token.iss == settings.jwt_issuer and token.jti


def test_every_token_gets_its_own_id(settings):
    a, _ = issue_token(settings, user_id="u1", empresa_id=EMPRESA, role="user", typ="refresh")
    b, _ = issue_token(settings, user_id="u1", empresa_id=EMPRESA, role="user", typ="refresh")
    assert decode_token(settings, a, "refresh").jti != decode_token(settings, b, "refresh").jti


def test_a_refresh_token_is_not_an_access_token(settings):
    encoded, ttl = issue_token(settings, user_id="u1", empresa_id=EMPRESA, role="user", typ="refresh")
    assert ttl == settings.refresh_token_ttl_seconds
    with pytest.raises(NotAuthorizedException, match="refresh token cannot be used here"):
        decode_token(settings, encoded, "access")


def test_a_token_signed_with_another_secret_or_issuer_is_refused(settings):
    other = settings.model_copy(update={"jwt_secret": settings.jwt_secret.__class__("another-" + "y" * 32)})
    encoded, _ = issue_token(other, user_id="u1", empresa_id=EMPRESA, role="user", typ="access")
    with pytest.raises(NotAuthorizedException):
        decode_token(settings, encoded, "access")
    foreign = settings.model_copy(update={"jwt_issuer": "someone-else"})
    encoded, _ = issue_token(foreign, user_id="u1", empresa_id=EMPRESA, role="user", typ="access")
    with pytest.raises(NotAuthorizedException):
        decode_token(settings, encoded, "access")


def test_an_expired_token_is_refused(settings):
    now = datetime.now(UTC)
    expired = PlatformToken(
        sub="u1", exp=now + timedelta(minutes=5), iat=now - timedelta(minutes=20),
        iss=settings.jwt_issuer, empresa_id=EMPRESA, role="user", typ="access",
    )  # fmt: skip
    expired.exp = now - timedelta(seconds=5)  # the constructor refuses a past expiry; a forger would not
    encoded = expired.encode(settings.jwt_secret.get_secret_value(), ALGORITHM)
    with pytest.raises(NotAuthorizedException):
        decode_token(settings, encoded, "access")


@pytest.mark.parametrize(("role", "empresa_id"), [("root", EMPRESA), ("user", ""), ("", EMPRESA)])
def test_a_token_without_a_known_role_or_an_empresa_has_the_wrong_shape(role, empresa_id):
    token = PlatformToken(
        sub="u1", exp=datetime.now(UTC) + timedelta(minutes=5), empresa_id=empresa_id, role=role, typ="access"
    )
    with pytest.raises(NotAuthorizedException, match="Invalid token"):
        check_token_shape(token, "access")


def test_a_verified_token_is_reused_but_its_expiry_and_secret_still_count(settings, monkeypatch):
    import shared.auth as auth

    encoded, ttl = issue_token(settings, user_id="u-cached", empresa_id=EMPRESA, role="user", typ="access")
    first = decode_token(settings, encoded, "access")
    assert any(key[0] == encoded for key in auth._VERIFIED)  # verified once, kept
    assert decode_token(settings, encoded, "access") == first
    other = settings.model_copy(update={"jwt_secret": settings.jwt_secret.__class__("another-" + "y" * 32)})
    with pytest.raises(NotAuthorizedException):
        decode_token(other, encoded, "access")  # the secret is part of what was verified
    later = auth.time.time() + ttl + 1
    monkeypatch.setattr(auth.time, "time", lambda: later)
    with pytest.raises(NotAuthorizedException):
        decode_token(settings, encoded, "access")  # expired since it was kept
