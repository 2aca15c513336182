"""The contrato's clauses: a default, versioned clause set, chosen by the payment terms.

A clause set is a list of `ClauseTemplate`s. Each clause says when it applies (always, or only for a
payment à vista or parcelado) and may name a few placeholders (`{valor_total}`, `{vigencia}` …) filled
from the snapshot. Only the names in `PLACEHOLDERS` exist: substitution is a plain lookup, never
Python formatting, so a clause text an empresa writes cannot reach into objects.

`resolve_clausulas(doc)` turns a set into the final text. core-api resolves it when a contrato is
created and stores the result with the contrato, so the contrato always prints the text it was signed
with even after the empresa edits its clause set; a snapshot without resolved clauses (older contratos,
samples) gets the default set resolved at render time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from shared.documents import formatting
from shared.documents.snapshot import Clausula, DocumentSnapshot

Quando = Literal["sempre", "avista", "parcelado"]
DEFAULT_VERSION = "padrao-2026.1"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class ClauseTemplate:
    titulo: str
    texto: str
    quando: Quando = "sempre"


def _campanha(doc: DocumentSnapshot) -> str:
    return f"do produto {doc.produto}" if doc.produto else "da CONTRATANTE"


def _forma(doc: DocumentSnapshot) -> Quando:
    return doc.pagamento.forma if doc.pagamento else "avista"


def _pagamento(doc: DocumentSnapshot) -> str:
    meio = f", por {doc.pagamento.meio}" if doc.pagamento and doc.pagamento.meio else ""
    if doc.pagamento is None:
        return "em parcela única, em até 30 (trinta) dias contados do início da veiculação"
    parcelas = doc.pagamento.parcelas
    if doc.pagamento.forma == "avista":
        return f"em parcela única, com vencimento em {formatting.data_br(parcelas[0].vencimento)}{meio}"
    itens = "; ".join(
        f"{i}ª de {formatting.brl(p.valor_centavos)} com vencimento em {formatting.data_br(p.vencimento)}"
        for i, p in enumerate(parcelas, start=1)
    )
    return f"em {len(parcelas)} parcelas{meio}: {itens}"


def _material(doc: DocumentSnapshot) -> str:
    return {"lona": "em lona", "papel": "em papel", "adesivo": "em adesivo", "digital": "digital"}.get(
        doc.material or "", "publicitário"
    )


def _producao(doc: DocumentSnapshot) -> str:
    return "CONTRATADA" if doc.producao_material == "contratada" else "CONTRATANTE"


def _entrega(doc: DocumentSnapshot) -> str:
    if doc.material_entrega_ate:
        return f"até {formatting.data_br(doc.material_entrega_ate)}"
    return "com antecedência mínima de 5 (cinco) dias úteis do início da veiculação"


def _foro(doc: DocumentSnapshot) -> str:
    e = doc.empresa
    if e.cidade:
        return f"{e.cidade}/{e.uf}" if e.uf else e.cidade
    return f"da sede da CONTRATADA ({e.endereco})" if e.endereco else "da sede da CONTRATADA"


#: the placeholders a clause text may use, and how each is computed from the snapshot
PLACEHOLDERS: dict[str, Callable[[DocumentSnapshot], str]] = {
    "campanha": _campanha,
    "inicio": lambda d: formatting.data_br(d.periodo.inicio),
    "fim": lambda d: formatting.data_br(d.periodo.fim),
    "dias": lambda d: str(formatting.dias(d.periodo.inicio, d.periodo.fim)),
    "bissemanas": lambda d: formatting.bissemanas(d.periodo.inicio, d.periodo.fim),
    "valor_total": lambda d: formatting.brl(d.valor_total_centavos),
    "pagamento": _pagamento,
    "material": _material,
    "producao": _producao,
    "entrega": _entrega,
    "foro": _foro,
}

DEFAULT_CLAUSES: tuple[ClauseTemplate, ...] = (
    ClauseTemplate(
        "Do objeto",
        "A CONTRATADA cede à CONTRATANTE, a título de locação, o uso dos espaços publicitários (placas) "
        "relacionados no Anexo I deste contrato, para a veiculação da campanha {campanha}.",
    ),
    ClauseTemplate(
        "Da vigência",
        "A locação vigora de {inicio} a {fim}, ambas as datas inclusive ({dias} dias; {bissemanas}), "
        "podendo ser prorrogada por termo aditivo assinado pelas partes.",
    ),
    ClauseTemplate(
        "Do preço e do pagamento",
        "Pela locação, a CONTRATANTE pagará à CONTRATADA o valor total de {valor_total}, {pagamento}. "
        "O atraso sujeita o valor em atraso a multa de 2% (dois por cento), juros de mora de 1% (um por "
        "cento) ao mês e correção monetária pelo IPCA/IBGE.",
    ),
    ClauseTemplate(
        "Da produção e da instalação do material",
        "O material {material} será produzido pela {producao} e entregue à CONTRATADA {entrega}, cabendo à "
        "CONTRATADA a afixação em até 5 (cinco) dias úteis do recebimento. O atraso na entrega do material "
        "não prorroga a vigência nem reduz o preço.",
    ),
    ClauseTemplate(
        "Das obrigações da contratada",
        "Manter as placas em bom estado de conservação, iluminação (quando houver) e visibilidade durante "
        "toda a vigência, e substituir, sem custo para a CONTRATANTE, material danificado por intempéries "
        "ou vandalismo.",
    ),
    ClauseTemplate(
        "Das obrigações da contratante",
        "Responder pelo conteúdo da mensagem veiculada, que deve observar a legislação e o Código Brasileiro "
        "de Autorregulamentação Publicitária, e efetuar os pagamentos nas datas acordadas.",
    ),
    ClauseTemplate(
        "Das licenças e posturas municipais",
        "Cabe à CONTRATADA manter válidas as licenças e autorizações municipais dos espaços e observar as "
        "posturas e a legislação de ordenamento da paisagem urbana do município de cada placa. A retirada "
        "de uma placa por determinação do poder público segue a cláusula de indisponibilidade abaixo.",
    ),
    ClauseTemplate(
        "Da força maior e da indisponibilidade de placa",
        "Nenhuma das partes responde por falhas causadas por caso fortuito ou força maior (art. 393 do "
        "Código Civil). Se uma placa ficar indisponível durante a vigência, a CONTRATADA oferecerá placa "
        "substituta de localização e visibilidade equivalentes; não sendo a substituição aceita pela "
        "CONTRATANTE, o preço será abatido na proporção dos dias de indisponibilidade daquela placa.",
    ),
    ClauseTemplate(
        "Da cessão e da sublocação",
        "É vedado à CONTRATANTE sublocar, ceder ou transferir, no todo ou em parte, os espaços objeto deste "
        "contrato, sem a anuência prévia e por escrito da CONTRATADA.",
    ),
    ClauseTemplate(
        "Do reajuste",
        "O preço é fixo durante a vigência. Em caso de prorrogação, será reajustado pela variação acumulada "
        "do IPCA/IBGE nos 12 (doze) meses anteriores, ou pelo índice oficial que o substituir.",
    ),
    ClauseTemplate(
        "Da rescisão",
        "O descumprimento de qualquer cláusula permite à parte inocente rescindir este contrato mediante "
        "notificação por escrito, sendo devida pela parte infratora multa de 20% (vinte por cento) sobre o "
        "valor correspondente ao período restante da vigência.",
        quando="avista",
    ),
    ClauseTemplate(
        "Da rescisão",
        "O descumprimento de qualquer cláusula permite à parte inocente rescindir este contrato mediante "
        "notificação por escrito, sendo devida pela parte infratora multa de 20% (vinte por cento) sobre o "
        "valor das parcelas vincendas.",
        quando="parcelado",
    ),
    ClauseTemplate(
        "Da proteção de dados pessoais",
        "As partes tratarão os dados pessoais a que tiverem acesso em razão deste contrato somente para "
        "executá-lo, com medidas de segurança adequadas, nos termos da Lei nº 13.709/2018 (LGPD).",
    ),
)

#: the foro is always the last clause, after the standard and the contrato's extra clauses
FORO = ClauseTemplate(
    "Do foro",
    "Fica eleito o foro da comarca de {foro} para dirimir quaisquer questões oriundas deste contrato, "
    "com renúncia a qualquer outro, por mais privilegiado que seja.",
)


def unknown_placeholders(texto: str) -> list[str]:
    """Placeholder names in a clause text that `PLACEHOLDERS` does not know (to refuse them early)."""
    return sorted({m for m in _PLACEHOLDER.findall(texto) if m not in PLACEHOLDERS})


def fill(texto: str, doc: DocumentSnapshot) -> str:
    """Replace the known placeholders; anything else in braces stays as typed."""
    return _PLACEHOLDER.sub(
        lambda m: PLACEHOLDERS[m.group(1)](doc) if m.group(1) in PLACEHOLDERS else m.group(0), texto
    )


def resolve_clausulas(
    doc: DocumentSnapshot, clauses: Sequence[ClauseTemplate] = DEFAULT_CLAUSES
) -> list[Clausula]:
    """The final text of a contrato's clauses: those for its payment terms, then its extra clauses
    (`doc.clausulas`), then the foro."""
    forma = _forma(doc)
    chosen: Iterable[ClauseTemplate] = (c for c in clauses if c.quando in ("sempre", forma))
    out = [Clausula(titulo=c.titulo, texto=fill(c.texto, doc)) for c in chosen]
    out += [Clausula(titulo="Disposição específica", texto=t) for t in doc.clausulas]
    out.append(Clausula(titulo=FORO.titulo, texto=fill(FORO.texto, doc)))
    return out


def clausulas_of(doc: DocumentSnapshot) -> list[Clausula]:
    """What the contrato prints: the clauses it was signed with, or the default set resolved now."""
    return list(doc.clausulas_contrato) if doc.clausulas_contrato else resolve_clausulas(doc)
