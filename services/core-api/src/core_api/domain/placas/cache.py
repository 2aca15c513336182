"""What the placas area caches and what its writes make stale.

- lists (`GET /placas`): cached per empresa and query for PLACAS_TTL under the empresa's "placas"
  generation; any placa write bumps it (a change may move a placa between pages or filters);
- one placa (`GET /placas/{id}`): the seed's cache-aside key `placa:{id}:empresa:{empresaId}`, checked
  against that placa's own version, so a change of one placa leaves the others' entries valid.

Nothing else invalidates placas: regiões, aluguéis, PIs and PDF jobs do not change what these routes
answer (a placa only names its região by id).
"""

from __future__ import annotations

from litestar.types import Scope

from core_api.lib.cache import TenantCache, version_key

AREA = "placas"
PLACAS_TTL = 600  # 10 minutes (the seed's)
PLACA_TTL = 600
PLACA_KEY = "placa:{placa_id}:empresa:{empresa_id}"


def placa_key(placa_id: str, empresa_id: str) -> str:
    # ids are hex: an id written in capitals names the same placa, so it must name the same entry
    return PLACA_KEY.format(placa_id=placa_id.lower(), empresa_id=empresa_id)


def placa_entry_keys(scope: Scope, empresa_id: str) -> tuple[str, str]:
    """The entry of `GET /placas/{placa_id}` and the placa's version counter."""
    key = placa_key(scope["path_params"]["placa_id"], empresa_id)
    return key, version_key(key)


async def placas_changed(cache: TenantCache, empresa_id: str, *placa_ids: str) -> None:
    """After a write: every cached list of the empresa, and the changed placas' own entries."""
    await cache.invalidate(empresa_id, [AREA], [placa_key(p, empresa_id) for p in placa_ids])
