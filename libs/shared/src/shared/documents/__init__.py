"""PI and contrato documents: the snapshot they print, templates, fonts and `render_pdf`.

Both renderers (core-api's legacy one and pdf-service) call this package, so they cannot drift.
Importing it does not import WeasyPrint; rendering does.
"""

from shared.documents.snapshot import (
    ClienteSnapshot,
    DocumentKind,
    DocumentSnapshot,
    EmpresaSnapshot,
    Periodo,
    PlacaSnapshot,
)

__all__ = [
    "ClienteSnapshot",
    "DocumentKind",
    "DocumentSnapshot",
    "EmpresaSnapshot",
    "Periodo",
    "PlacaSnapshot",
]
