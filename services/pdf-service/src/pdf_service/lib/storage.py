"""PDF documents in GridFS (pdf-service's own database), one file per job, with a sha256 checksum.

The GridFS file id is derived from the job id, so the same job can never be stored twice: the
files collection's `_id` is unique whatever happens (redelivery, duplicate events, two workers).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from pymongo.asynchronous.database import AsyncDatabase

BUCKET = "documents"


def document_id_for(job_id: str) -> ObjectId:
    """The stored document's id for a job: deterministic, ObjectId-shaped."""
    return ObjectId(hashlib.sha256(f"pdf-document:{job_id}".encode()).digest()[:12])


@dataclass(frozen=True)
class StoredDocument:
    id: ObjectId
    filename: str
    length: int
    sha256: str
    pages: int
    empresa_id: str
    job_id: str

    @classmethod
    def from_file_doc(cls, doc: dict[str, Any]) -> StoredDocument:
        meta = doc.get("metadata") or {}
        return cls(
            id=doc["_id"],
            filename=doc["filename"],
            length=int(doc["length"]),
            sha256=meta.get("sha256", ""),
            pages=int(meta.get("pages", 0)),
            empresa_id=meta.get("empresaId", ""),
            job_id=meta.get("jobId", ""),
        )


class DocumentStore:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._db = db
        self._bucket = AsyncGridFSBucket(db, bucket_name=BUCKET)
        self._files = db[f"{BUCKET}.files"]
        self._chunks = db[f"{BUCKET}.chunks"]

    async def ensure_indexes(self) -> None:
        await self._chunks.create_index([("files_id", 1), ("n", 1)], unique=True, name="files_id_n_unique")
        await self._files.create_index([("metadata.empresaId", 1)], name="empresa")

    async def get(self, document_id: ObjectId, empresa_id: str | None = None) -> StoredDocument | None:
        """The document if it is completely stored (and belongs to `empresa_id` when given)."""
        query: dict[str, Any] = {"_id": document_id}
        if empresa_id is not None:
            query["metadata.empresaId"] = empresa_id
        doc = await self._files.find_one(query)
        return StoredDocument.from_file_doc(doc) if doc else None

    async def put(
        self, document_id: ObjectId, filename: str, pdf: bytes, *, pages: int, metadata: dict[str, Any]
    ) -> StoredDocument:
        """Store the PDF under `document_id`. Call it only while holding the job's lease."""
        # chunks left by a worker that died mid-upload would collide with ours
        await self._chunks.delete_many({"files_id": document_id})
        sha = hashlib.sha256(pdf).hexdigest()
        meta = {**metadata, "sha256": sha, "pages": pages, "contentType": "application/pdf"}
        await self._bucket.upload_from_stream_with_id(document_id, filename, pdf, metadata=meta)
        stored = await self.get(document_id)
        assert stored is not None
        return stored

    async def stream(self, document_id: ObjectId) -> AsyncIterator[bytes]:
        """The file's bytes, chunk by chunk (never the whole PDF in memory)."""
        grid_out = await self._bucket.open_download_stream(document_id)
        try:
            while chunk := await grid_out.readchunk():
                yield chunk
        finally:
            await grid_out.close()

    async def count_for_job(self, job_id: str) -> int:
        return await self._files.count_documents({"metadata.jobId": job_id})
