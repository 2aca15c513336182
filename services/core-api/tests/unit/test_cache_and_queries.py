"""Pure logic of the tenant cache (keys, stored-entry format, circuit) and of query helpers."""

from __future__ import annotations

import pytest
from beanie import PydanticObjectId
from bson import ObjectId
from core_api.domain.placas.cache import placa_key
from core_api.domain.users.state import UserState, UserStates
from core_api.lib import cache
from core_api.lib.repository import parse_object_id, text_filter
from litestar.exceptions import NotFoundException
from redis.exceptions import ConnectionError as RedisConnectionError

EMPRESA = "665f1c2e8a4b2c0012345678"


def test_cache_keys_carry_the_empresa():
    assert cache.area_key(EMPRESA, "placas") == f"cache:gen:{EMPRESA}:placas"
    assert placa_key("p1", EMPRESA) == f"placa:p1:empresa:{EMPRESA}"
    assert placa_key("AB12", EMPRESA) == placa_key("ab12", EMPRESA)  # one placa, one entry
    assert cache.version_key(placa_key("p1", EMPRESA)) == f"placa:p1:empresa:{EMPRESA}:v"
    assert cache.area_key("a", "placas") != cache.area_key("b", "placas")


def test_list_keys_sort_the_query_and_name_the_area():
    policy = cache.CachePolicy("placas", 600)
    scope = {"path": "/api/v1/placas", "query_string": b"pageSize=5&page=2"}
    same = {"path": "/api/v1/placas", "query_string": b"page=2&pageSize=5"}
    key, version = policy.keys_for(scope, EMPRESA)  # type: ignore[arg-type]
    assert key == f"cache:http:{EMPRESA}:placas:/api/v1/placas?page=2&pageSize=5"
    assert version == cache.area_key(EMPRESA, "placas")
    assert policy.keys_for(same, EMPRESA) == (key, version)  # type: ignore[arg-type]
    assert policy.keys_for(scope, "other")[0] != key  # type: ignore[arg-type]


def test_a_stored_response_round_trips_with_its_etag_and_headers():
    entry = cache.CachedResponse.build(
        7, 600, [(b"content-type", b"application/json"), (b"etag", b"old")], b'{"a":\n\n1}'
    )
    decoded = cache.CachedResponse.decode(entry.encode())
    assert decoded is not None
    assert (decoded.headers, decoded.body, decoded.etag) == (entry.headers, entry.body, entry.etag)
    assert abs(decoded.fresh_until - entry.fresh_until) < 0.01
    assert decoded.generation == 7 and decoded.is_fresh
    assert decoded.etag == cache.etag_of(b'{"a":\n\n1}')
    assert dict(decoded.headers) == {
        b"content-type": b"application/json",
        b"content-length": b"9",
        b"etag": decoded.etag,
        b"cache-control": b"private, no-cache",
    }
    assert b"content-length" not in dict(decoded.not_modified_headers())


@pytest.mark.parametrize("raw", [None, b"", b"3\n{}", b'r1 x 1.0 W/"a"\n\n{}', b"r2 1 1.0 e\n\n{}"])
def test_anything_not_in_the_entry_format_is_a_miss(raw):
    assert cache.CachedResponse.decode(raw) is None


def test_if_none_match_compares_weakly_and_accepts_lists_and_star():
    entry = cache.CachedResponse.build(1, 60, [], b"body")
    assert entry.matches(entry.etag)
    assert entry.matches(b'"x", ' + entry.etag)
    assert entry.matches(entry.etag[2:])  # the strong form of the same tag
    assert entry.matches(b"*")
    assert not entry.matches(b'W/"other"')


def test_user_states_hold_only_active_users_at_their_token_version():
    states = UserStates(ttl=60, max_users=2)
    alice = UserState(active=True, empresa_id=EMPRESA, role="user", token_version=3)
    states.put("alice", 3, alice)
    assert states.get("alice", 3) == alice
    assert states.get("alice", 4) is None  # revoked since: reload
    states.put("bob", 0, UserState(active=False, empresa_id=EMPRESA, role="user", token_version=0))
    assert states.get("bob", 0) is None  # inactive users are always read fresh
    states.put("carol", 0, alice)
    states.put("dave", 0, alice)
    assert states.get("alice", 3) is None  # bounded: the oldest went first
    off = UserStates(ttl=0)  # CORE_API_CACHE_ENABLED=false: every request loads its user
    off.put("alice", 3, alice)
    assert off.get("alice", 3) is None
    expired = UserStates(ttl=-1)
    expired.put("alice", 3, alice)
    assert expired.get("alice", 3) is None  # the TTL bounds a change made behind the API


async def test_the_circuit_opens_on_a_redis_failure_and_answers_the_default_meanwhile():
    circuit = cache.RedisCircuit(cooldown=3600)
    calls = []

    async def failing():
        calls.append("failing")
        raise RedisConnectionError("down")

    async def working():
        calls.append("working")
        return "value"

    assert await circuit.call("t", "get", working, "default") == "value"
    assert await circuit.call("t", "get", failing, "default") == "default"
    assert circuit.is_open
    assert await circuit.call("t", "get", working, "default") == "default"  # skipped while open
    assert calls == ["working", "failing"]


async def test_the_circuit_lets_a_probe_through_after_the_cooldown():
    circuit = cache.RedisCircuit(cooldown=0)

    async def failing():
        raise RedisConnectionError("down")

    async def working():
        return 7

    assert await circuit.call("t", "get", failing, None) is None
    assert not circuit.is_open
    assert await circuit.call("t", "get", working, None) == 7


async def test_the_circuit_does_not_swallow_programming_errors():
    async def broken():
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await cache.RedisCircuit().call("t", "get", broken, None)


def test_object_ids_from_paths_are_parsed_or_404():
    assert parse_object_id(EMPRESA) == PydanticObjectId(EMPRESA)
    assert parse_object_id(ObjectId(EMPRESA)) == PydanticObjectId(EMPRESA)
    for bad in ("nope", "", "665f1c2e8a4b2c001234567z", "665f1c2e8a4b2c00123456789"):
        with pytest.raises(NotFoundException, match="placa"):
            parse_object_id(bad, "placa")


def test_text_search_escapes_the_users_text():
    query = text_filter(["nome", "email"], "  a.b*(c  ")
    assert query == {
        "$or": [
            {"nome": {"$regex": r"a\.b\*\(c", "$options": "i"}},
            {"email": {"$regex": r"a\.b\*\(c", "$options": "i"}},
        ]
    }
