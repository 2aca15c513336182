from pdf_service.domain.jobs.models import PdfJob
from pdf_service.domain.jobs.service import RENDER_GROUP, PdfJobProcessor

__all__ = ["RENDER_GROUP", "PdfJob", "PdfJobProcessor"]
