"""Revoked users lose access everywhere within about a second (issue 10, item 2).

Real processes behind the real Traefik: a user's tokens are refused by core-api and by pdf-service
(directly and through the gateway) shortly after the user is deleted, deactivated, changes role or
password, or logs out; the user's open event stream closes.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import httpx
import pytest

PASSWORD = "Reboque-Azul-Ventania-42"
UNKNOWN = "65a000000000000000000001"  # no such job or document: 404 proves the token was accepted


def register_admin(gateway: str) -> dict[str, str]:
    email = f"admin-{uuid.uuid4().hex[:10]}@example.com"
    body = {
        "empresa": {"nome": "Revogações Ltda"},
        "admin": {"nome": "Admin", "email": email, "password": PASSWORD},
    }
    r = httpx.post(f"{gateway}/api/v1/auth/register", json=body, timeout=30)
    assert r.status_code == 202, r.text
    return login(gateway, email)


def login(gateway: str, email: str, password: str = PASSWORD) -> dict[str, str]:
    r = httpx.post(f"{gateway}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['accessToken']}"}


def protected_urls(stack) -> dict[str, str]:
    """Where a token is checked: core-api and pdf-service, directly and through the gateway."""
    pdf, core, gw = stack.env["PDF_SERVICE_URL"], stack.env["CORE_API_URL"], stack.gateway
    return {
        "pdf-service document": f"{pdf}/api/v1/documents/{UNKNOWN}",
        "core-api job": f"{core}/api/v1/pdf-jobs/{UNKNOWN}",
        "gateway job": f"{gw}/api/v1/pdf-jobs/{UNKNOWN}",
        "gateway document": f"{gw}/api/v1/documents/{UNKNOWN}",
        "core-api me": f"{core}/api/v1/auth/me",
        "gateway me": f"{gw}/api/v1/auth/me",
    }


def statuses(urls: dict[str, str], headers: dict[str, str]) -> dict[str, int]:
    return {name: httpx.get(url, headers=headers, timeout=10).status_code for name, url in urls.items()}


def wait_all_401(urls: dict[str, str], headers: dict[str, str], timeout: float = 10.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        seen = statuses(urls, headers)
        if set(seen.values()) == {401} or time.monotonic() > deadline:
            return seen
        time.sleep(0.1)


@pytest.fixture(scope="module")
def admin(stack) -> dict[str, str]:
    return register_admin(stack.gateway)


@pytest.fixture
def new_user(stack, admin) -> Callable[[], tuple[str, str, dict[str, str]]]:
    """Creates a user in the admin's empresa and logs in as them: (id, email, headers)."""

    def make() -> tuple[str, str, dict[str, str]]:
        email = f"user-{uuid.uuid4().hex[:10]}@example.com"
        r = httpx.post(
            f"{stack.gateway}/api/v1/users",
            json={"nome": "Usuária", "email": email, "password": PASSWORD, "role": "user"},
            headers=admin,
            timeout=30,
        )
        assert r.status_code == 201, r.text
        return r.json()["id"], email, login(stack.gateway, email)

    return make


REVOCATIONS = {
    "deleted": lambda gw, admin, uid, user: httpx.delete(f"{gw}/api/v1/users/{uid}", headers=admin),
    "deactivated": lambda gw, admin, uid, user: httpx.patch(
        f"{gw}/api/v1/users/{uid}", json={"active": False}, headers=admin
    ),
    "role changed": lambda gw, admin, uid, user: httpx.patch(
        f"{gw}/api/v1/users/{uid}", json={"role": "admin"}, headers=admin
    ),
    "password changed": lambda gw, admin, uid, user: httpx.patch(
        f"{gw}/api/v1/users/{uid}", json={"password": "Outra-Senha-Bem-Longa-77"}, headers=admin, timeout=30
    ),
    "logout": lambda gw, admin, uid, user: httpx.post(f"{gw}/api/v1/auth/logout", headers=user),
}


@pytest.mark.parametrize("how", list(REVOCATIONS))
def test_revoked_tokens_are_refused_by_every_service(stack, admin, new_user, how):
    user_id, _, headers = new_user()
    urls = protected_urls(stack)
    before = statuses(urls, headers)
    assert before == {
        **{name: 200 if name.endswith(" me") else 404 for name in urls},
    }, before
    r = REVOCATIONS[how](stack.gateway, admin, user_id, headers)
    assert r.status_code in (200, 204), r.text
    started = time.monotonic()
    after = wait_all_401(urls, headers)
    assert set(after.values()) == {401}, (how, after)
    print(f"{how}: every service refused the token {time.monotonic() - started:.2f}s after the revocation")
    # the 401 names the reason
    assert "revoked" in httpx.get(urls["pdf-service document"], headers=headers).json()["detail"]


def test_role_change_and_new_login_work_again(stack, admin, new_user):
    """Revocation ends old tokens only: a login after it is accepted everywhere at once."""
    user_id, email, headers = new_user()
    assert httpx.post(f"{stack.gateway}/api/v1/auth/logout", headers=headers).status_code == 204
    fresh = login(stack.gateway, email)
    seen = statuses(protected_urls(stack), fresh)
    assert set(seen.values()) <= {200, 404} and seen["gateway me"] == 200, seen


def test_open_event_stream_of_a_removed_user_closes(stack, admin, new_user):
    user_id, _, headers = new_user()
    lines: list[str] = []
    ended = threading.Event()
    opened = threading.Event()

    def listen() -> None:
        try:
            # read timeout above the stream's 15 s keep-alive: only a closed stream ends this early
            with httpx.stream(
                "GET", f"{stack.gateway}/api/v1/events", headers=headers, timeout=httpx.Timeout(5, read=30)
            ) as r:
                assert r.status_code == 200
                for line in r.iter_lines():
                    lines.append(line)
                    if "connected" in line:
                        opened.set()
        except httpx.HTTPError as exc:
            lines.append(f"error: {exc!r}")
        finally:
            ended.set()

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert opened.wait(20), lines
    assert not ended.is_set()
    r = httpx.delete(f"{stack.gateway}/api/v1/users/{user_id}", headers=admin)
    assert r.status_code == 204, r.text
    assert ended.wait(10), "the stream of the removed user is still open"
    assert not [line for line in lines if line.startswith("error")], lines
    assert not [line for line in lines if line.startswith("data:")], lines
