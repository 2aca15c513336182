"""Pure logic of the tenant cache (keys, stored-entry format, circuit) and of query helpers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from beanie import PydanticObjectId
from bson import ObjectId
from core_api.lib import cache
from core_api.lib.repository import parse_object_id, text_filter
from litestar.exceptions import NotFoundException
from redis.exceptions import ConnectionError as RedisConnectionError

EMPRESA = "665f1c2e8a4b2c0012345678"


def test_cache_keys_carry_the_empresa():
    assert cache.area_key(EMPRESA, "placas") == f"cache:gen:{EMPRESA}:placas"
    assert cache.placa_key("p1", EMPRESA) == f"placa:p1:empresa:{EMPRESA}"
    assert cache.version_key(cache.placa_key("p1", EMPRESA)) == f"placa:p1:empresa:{EMPRESA}:v"
    assert cache.area_key("a", "placas") != cache.area_key("b", "placas")


def test_a_stored_entry_is_current_only_for_its_generation():
    load = json.loads
    assert cache._current(b'3\n{"a": 1}', 3, load) == {"a": 1}
    assert cache._current(b'3\n{"a": 1}', 4, load) is cache._MISSING  # invalidated since
    assert cache._current(None, 0, load) is cache._MISSING
    assert cache._current(b"", 0, load) is cache._MISSING
    assert cache._current(b'x\n{"a": 1}', 0, load) is cache._MISSING  # not our format


def test_read_areas_match_whole_path_segments_only():
    assert cache._by_prefix("/api/v1/placas", cache.READ_AREAS, None) == "placas"
    assert cache._by_prefix("/api/v1/placas/123", cache.READ_AREAS, None) == "placas"
    assert cache._by_prefix("/api/v1/placasx", cache.READ_AREAS, None) is None
    assert cache._by_prefix("/api/v1/regioes", cache.READ_AREAS, None) == "regioes"


def test_json_dump_writes_dates_and_ids_as_text():
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert json.loads(cache.json_dump({"t": when, "id": ObjectId(EMPRESA)})) == {
        "t": "2026-01-02 03:04:05+00:00",
        "id": EMPRESA,
    }


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
