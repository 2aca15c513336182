from core_api.server.app import create_app

__all__ = ["create_app"]
