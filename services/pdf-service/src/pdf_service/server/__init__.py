from pdf_service.server.app import create_app

__all__ = ["create_app"]
