"""Pure logic of bookings and PIs: the days a period occupies, period filters, conflict messages,
the PI workflow and the split of cents (no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from bson import ObjectId
from core_api.domain.alugueis.booking import MAX_DIAS, ReservaConflito, dias_do_periodo, slot_id
from core_api.domain.alugueis.services import conflito, periodo_filter
from core_api.domain.pis.models import PI
from core_api.domain.pis.services import TRANSICOES, dividir, status_publico
from core_api.domain.pis.workflow import recusa_da_transicao, recusa_do_contrato
from core_api.domain.placas.models import Placa
from litestar.exceptions import ValidationException

BRT = timezone(timedelta(hours=-3))


def at(*args: int, tz: timezone = BRT) -> datetime:
    return datetime(*args, tzinfo=tz)  # type: ignore[misc]


# --- days of a period ------------------------------------------------------------------------------
def test_a_month_from_local_midnight_to_local_midnight_is_its_days():
    dias = dias_do_periodo(at(2026, 3, 1), at(2026, 4, 1))
    assert len(dias) == 31 and dias[0] == "2026-03-01" and dias[-1] == "2026-03-31"


def test_the_end_is_exclusive():
    assert dias_do_periodo(at(2026, 3, 1), at(2026, 3, 2)) == ["2026-03-01"]


def test_a_partial_day_occupies_the_whole_day():
    assert dias_do_periodo(at(2026, 3, 1, 23), at(2026, 3, 2, 1)) == ["2026-03-01", "2026-03-02"]


def test_utc_instants_are_counted_in_sao_paulo_days():
    # 02:00-02:30 UTC on the 2nd is 23:00-23:30 on the 1st in São Paulo
    assert dias_do_periodo(at(2026, 3, 2, 2, tz=UTC), at(2026, 3, 2, 2, 30, tz=UTC)) == ["2026-03-01"]
    assert dias_do_periodo(at(2026, 3, 2, 2, tz=UTC), at(2026, 3, 2, 4, tz=UTC)) == [
        "2026-03-01",
        "2026-03-02",
    ]


def test_naive_datetimes_are_refused_with_a_hint():
    with pytest.raises(ValidationException, match="time zone"):
        dias_do_periodo(datetime(2026, 3, 1), at(2026, 3, 2))


@pytest.mark.parametrize("fim", [at(2026, 3, 1), at(2026, 2, 1)])
def test_an_end_not_after_the_start_is_refused(fim):
    with pytest.raises(ValidationException, match="fim must be after inicio"):
        dias_do_periodo(at(2026, 3, 1), fim)


def test_years_out_of_range_are_refused():
    with pytest.raises(ValidationException, match="between the years"):
        dias_do_periodo(at(1999, 12, 1), at(2026, 1, 1))


def test_a_booking_longer_than_the_limit_is_refused_and_the_limit_itself_is_accepted():
    inicio = at(2026, 1, 1)
    assert len(dias_do_periodo(inicio, inicio + timedelta(days=MAX_DIAS))) == MAX_DIAS
    with pytest.raises(ValidationException, match=f"at most {MAX_DIAS} days"):
        dias_do_periodo(inicio, inicio + timedelta(days=MAX_DIAS + 1))


def test_slot_ids_name_the_placa_and_the_day():
    placa = ObjectId("665f1c2e8a4b2c0012345678")
    assert slot_id(placa, "2026-03-01") == "665f1c2e8a4b2c0012345678:2026-03-01"


# --- period filters for listings -------------------------------------------------------------------
def test_periodo_filter_selects_overlapping_documents():
    inicio, fim = at(2026, 3, 1), at(2026, 4, 1)
    assert periodo_filter(inicio, fim) == {"inicio": {"$lt": fim}, "fim": {"$gt": inicio}}
    assert periodo_filter(inicio, None) == {"fim": {"$gt": inicio}}
    assert periodo_filter(None, fim) == {"inicio": {"$lt": fim}}
    assert periodo_filter(None, None) == {}


def test_periodo_filter_refuses_naive_and_inverted_periods():
    with pytest.raises(ValidationException, match="time zone"):
        periodo_filter(datetime(2026, 3, 1), None)
    with pytest.raises(ValidationException, match="fim must be after inicio"):
        periodo_filter(at(2026, 3, 2), at(2026, 3, 1))


# --- conflicts -------------------------------------------------------------------------------------
def test_a_conflict_names_the_placas_already_booked_and_the_period():
    a, b = ObjectId(), ObjectId()
    placas = {a: Placa.model_construct(numero="P-02"), b: Placa.model_construct(numero="P-01")}
    exc = conflito(placas, ReservaConflito([a, b]), ["2026-03-01", "2026-03-31"])
    assert exc.status_code == 409
    assert "P-01, P-02 already booked" in exc.detail and "between 2026-03-01 and 2026-03-31" in exc.detail
    # the 409 shape (one per error kind): a reason and the resources in conflict, by id and label
    assert exc.extra["reason"] == "taken"
    assert sorted((c["resource"], c["id"], c["label"]) for c in exc.extra["conflicts"]) == sorted(
        [("placa", str(a), "P-02"), ("placa", str(b), "P-01")]
    )


def test_a_conflict_with_no_known_placa_asks_for_a_retry():
    exc = conflito({}, ReservaConflito([ObjectId()]), ["2026-03-01"])
    assert exc.status_code == 409 and "retry" in exc.detail


# --- PI workflow and money -------------------------------------------------------------------------
def test_pi_workflow_allows_only_the_documented_moves():
    # a running PI can only be cancelled: it is concluded once its period is over (vencida)
    assert TRANSICOES["em_andamento"] == {"cancelada"}
    assert TRANSICOES["vencida"] == {"concluida", "cancelada"}
    assert TRANSICOES["concluida"] == set() and TRANSICOES["cancelada"] == set()
    # the approval flow (issue 15): rascunho → aprovada → assinada
    assert TRANSICOES["rascunho"] == {"aprovada", "cancelada"}
    assert TRANSICOES["aprovada"] == {"assinada", "rascunho", "cancelada"}
    assert TRANSICOES["assinada"] == {"cancelada"}


@pytest.mark.parametrize(
    ("atual", "alvo", "role", "kind"),
    [
        ("rascunho", "aprovada", "admin", None),
        ("rascunho", "aprovada", "user", "forbidden"),
        ("aprovada", "rascunho", "user", "forbidden"),
        ("aprovada", "rascunho", "admin", None),
        ("aprovada", "assinada", "user", None),
        ("rascunho", "assinada", "admin", "conflict"),  # signing needs the approval first
        ("assinada", "aprovada", "admin", "conflict"),
        ("aprovada", "aprovada", "admin", "conflict"),  # a repeated move is not a no-op: one winner
        ("assinada", "concluida", "user", "conflict"),  # before its period ends
        ("em_andamento", "aprovada", "admin", "conflict"),  # PIs outside the flow stay outside
        ("cancelada", "rascunho", "admin", "conflict"),
        ("vencida", "concluida", "user", None),
    ],
)
def test_who_may_move_a_pi_where(atual, alvo, role, kind):
    recusa = recusa_da_transicao(atual, alvo, role)
    assert (recusa.kind if recusa else None) == kind, recusa


def test_a_forbidden_move_says_who_may_make_it_and_a_conflict_what_is_allowed():
    assert "only an admin may approve" in recusa_da_transicao("rascunho", "aprovada", "user").message
    assert "period is over" in recusa_da_transicao("em_andamento", "concluida", "user").message
    message = recusa_da_transicao("rascunho", "assinada", "admin").message
    assert "aprovada" in message and "cancelada" in message


@pytest.mark.parametrize(
    ("status", "refused"),
    [
        ("rascunho", True),
        ("cancelada", True),
        ("aprovada", False),
        ("assinada", False),
        ("em_andamento", False),
        ("vencida", False),
    ],
)
def test_a_contrato_is_made_from_an_approved_pi_only(status, refused):
    assert (recusa_do_contrato(status) is not None) == refused


def test_a_signed_pi_past_its_end_reads_as_vencida_and_a_draft_does_not():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    past = now - timedelta(days=1)
    assert status_publico(PI.model_construct(status="assinada", fim=past), now) == "vencida"
    for status in ("rascunho", "aprovada"):
        assert status_publico(PI.model_construct(status=status, fim=past), now) == status


def test_a_running_pi_past_its_end_reads_as_vencida_without_being_stored_so():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    past = PI.model_construct(status="em_andamento", fim=now - timedelta(seconds=1))
    running = PI.model_construct(status="em_andamento", fim=now + timedelta(days=1))
    assert status_publico(past, now) == "vencida" and past.status == "em_andamento"
    assert status_publico(running, now) == "em_andamento"


@pytest.mark.parametrize("status", ["concluida", "cancelada", "pendente"])
def test_only_running_pis_become_vencida(status):
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert status_publico(PI.model_construct(status=status, fim=now - timedelta(days=30)), now) == status


@pytest.mark.parametrize(
    ("total", "partes", "expected"),
    [(100, 3, [34, 33, 33]), (99, 3, [33, 33, 33]), (1, 2, [1, 0]), (0, 2, [0, 0]), (150_000, 1, [150_000])],
)
def test_cents_are_split_exactly(total, partes, expected):
    shares = dividir(total, partes)
    assert shares == expected and sum(shares) == total
