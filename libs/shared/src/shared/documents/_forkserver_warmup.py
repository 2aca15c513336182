"""Imported by the render forkserver only: renders one small document so that every render child,
forked from it, starts with WeasyPrint's fonts and caches already loaded."""

from shared.documents.render import render_document
from shared.documents.samples import sample_snapshot

render_document("pi", sample_snapshot("pi", placas=1))

import gc  # noqa: E402

# keep the warmed objects out of the collector: children then do not copy their pages on write
gc.freeze()
