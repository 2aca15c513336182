"""A PI's status machine: which moves exist, who may make them, and what a client sees. Pure logic.

Two ways into the booked life of a PI:

- the approval flow (`"status": "rascunho"` on create): `rascunho → aprovada → assinada`. An admin
  approves (and may reopen an approved PI as a draft); anyone of the empresa records the signature.
  A contrato can be made once the PI is `aprovada` (or later), never from a draft.
- without it (the default, and every PI made before the flow existed): `em_andamento` at once.

Once its period has ended an `em_andamento` or `assinada` PI is shown as `vencida` (never stored)
and can be `concluida`. Any PI not finished can be `cancelada`, which frees its placas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

#: what clients see (`vencida` is computed); `pendente` is never shown
PIStatusPublico = Literal[
    "rascunho", "aprovada", "assinada", "em_andamento", "vencida", "concluida", "cancelada"
]

#: the moves (from the status a client sees)
TRANSICOES: dict[str, frozenset[str]] = {
    "rascunho": frozenset({"aprovada", "cancelada"}),
    "aprovada": frozenset({"assinada", "rascunho", "cancelada"}),
    "assinada": frozenset({"cancelada"}),
    # a PI is concluded once its period is over (vencida); before that it can only be cancelled
    "em_andamento": frozenset({"cancelada"}),
    "vencida": frozenset({"concluida", "cancelada"}),
    "concluida": frozenset(),
    "cancelada": frozenset(),
}

#: moves only an admin may make: approving, and taking an approval back
SO_ADMIN: frozenset[tuple[str, str]] = frozenset({("rascunho", "aprovada"), ("aprovada", "rascunho")})

#: stored statuses whose period, once over, makes the PI `vencida`
CORRENDO = frozenset({"em_andamento", "assinada"})

#: a contrato is made from these (a draft must be approved first)
GERA_CONTRATO = frozenset({"aprovada", "assinada", "em_andamento", "vencida", "concluida"})

#: value, placas and period are fixed from approval on (reopen as rascunho to change them)
VALOR_FIXO = frozenset({"aprovada", "assinada"})


def status_visivel(status: str, fim: datetime, now: datetime) -> str:
    """The status a client sees: a running PI past its end is `vencida`."""
    return "vencida" if status in CORRENDO and fim <= now else status


@dataclass(frozen=True)
class Recusa:
    """Why a move is refused: `forbidden` (the role, 403) or `conflict` (the state, 409)."""

    kind: Literal["forbidden", "conflict"]
    message: str


def recusa_da_transicao(atual: str, alvo: str, role: str) -> Recusa | None:
    """None when a user of `role` may move a PI seen as `atual` to `alvo`."""
    if alvo == atual:
        return Recusa("conflict", f"the PI is already {atual}")
    permitidos = TRANSICOES.get(atual, frozenset())
    if alvo == "concluida" and atual in CORRENDO:
        return Recusa("conflict", f"the PI is {atual}: it can be concluida only once its period is over")
    if alvo not in permitidos:
        caminhos = ", ".join(sorted(permitidos)) or "none (it is final)"
        return Recusa("conflict", f"a PI that is {atual} cannot become {alvo}; from {atual}: {caminhos}")
    if (atual, alvo) in SO_ADMIN and role != "admin":
        verbo = "approve a PI" if alvo == "aprovada" else "take an approval back"
        return Recusa("forbidden", f"only an admin may {verbo}")
    return None


def recusa_do_contrato(atual: str) -> str | None:
    """None when a contrato may be made from a PI seen as `atual`; else why not."""
    if atual == "cancelada":
        return "the PI is cancelada; a contrato needs a live PI"
    if atual not in GERA_CONTRATO:
        return f"the PI is {atual}: an admin must approve it (status aprovada) before its contrato is made"
    return None
