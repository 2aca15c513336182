"""The empresa's logo: validated (type by content, size, dimensions) and stored in GridFS.

A logo is printed on every PI and contrato, so it is checked as an image, not trusted by its
Content-Type: the bytes must start with the PNG or JPEG signature the header names, Pillow must
decode it, and its size and pixel count are bounded (no decompression bombs in the renderer).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
from typing import Any

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from litestar.exceptions import ClientException, HTTPException
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE, HTTP_415_UNSUPPORTED_MEDIA_TYPE
from pymongo.asynchronous.database import AsyncDatabase

BUCKET = "empresa_logos"
MAX_LOGO_BYTES = 256 * 1024
MAX_SIDE_PX = 4000
SIGNATURES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}


class LogoError(ClientException):
    """400: the upload is not a usable logo."""


class LogoTooLarge(HTTPException):
    """413: the logo is over the size limit."""

    status_code = HTTP_413_REQUEST_ENTITY_TOO_LARGE


class LogoUnsupportedType(HTTPException):
    """415: not sent as image/png or image/jpeg."""

    status_code = HTTP_415_UNSUPPORTED_MEDIA_TYPE


def validate_logo(content_type: str | None, data: bytes) -> str:
    """The normalised content type of a valid logo; raises a 4xx saying what is wrong otherwise."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in SIGNATURES:
        raise LogoUnsupportedType(
            detail="send the logo as the request body with Content-Type image/png or image/jpeg",
            extra={"accepted": sorted(SIGNATURES)},
        )
    if not data:
        raise LogoError("the request body is empty: send the image's bytes")
    if len(data) > MAX_LOGO_BYTES:
        raise LogoTooLarge(
            detail=f"the logo has {len(data)} bytes; the limit is {MAX_LOGO_BYTES} bytes",
            extra={"maxBytes": MAX_LOGO_BYTES},
        )
    if not data.startswith(SIGNATURES[kind]):
        raise LogoError(f"the body is not a {PIL_FORMATS[kind]} image, as its Content-Type {kind} says")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if img.format != PIL_FORMATS[kind]:
                raise LogoError(f"the body is a {img.format} image, not {PIL_FORMATS[kind]}")
            if width > MAX_SIDE_PX or height > MAX_SIDE_PX:
                raise LogoError(
                    f"the logo is {width}×{height} px; each side may have at most {MAX_SIDE_PX} px"
                )
            img.verify()
    except LogoError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise LogoError(
            f"the image cannot be decoded ({type(exc).__name__}); upload a valid PNG or JPEG"
        ) from None
    return kind


class LogoStore:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._bucket = AsyncGridFSBucket(db, bucket_name=BUCKET)

    async def put(self, empresa_id: ObjectId, content_type: str, data: bytes) -> dict[str, Any]:
        file_id = ObjectId()
        await self._bucket.upload_from_stream_with_id(
            file_id,
            f"logo-{empresa_id}",
            data,
            metadata={"empresaId": str(empresa_id), "contentType": content_type},
        )
        return {
            "file_id": file_id,
            "content_type": content_type,
            "length": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }

    async def read(self, file_id: ObjectId) -> bytes:
        stream = await self._bucket.open_download_stream(file_id)
        return await stream.read()

    async def delete(self, file_id: ObjectId) -> None:
        with contextlib.suppress(NoFile):
            await self._bucket.delete(file_id)

    async def data_uri(self, file_id: ObjectId, content_type: str) -> str | None:
        """The logo as an inline data URI for the document renderer (which fetches nothing)."""
        try:
            data = await self.read(file_id)
        except NoFile:
            return None
        return f"data:{content_type};base64,{base64.b64encode(data).decode()}"
