from pdf_service.domain.jobs.models import PdfJob
from pdf_service.domain.jobs.service import INTAKE_GROUP, RENDER_GROUP, PdfJobProcessor

__all__ = ["INTAKE_GROUP", "RENDER_GROUP", "PdfJob", "PdfJobProcessor"]
