"""The one place where tenant isolation is enforced.

Every read, write and delete of a tenant-owned document goes through `TenantRepository`, which
adds `empresa_id` to every filter. Handlers never build raw queries: an id from another empresa,
or one that is not a valid ObjectId, is simply "not found" (404).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from beanie import PydanticObjectId, SortDirection
from bson import ObjectId
from bson.errors import InvalidId
from litestar.exceptions import NotFoundException
from pymongo.errors import DuplicateKeyError, OperationFailure

from core_api.lib.documents import TenantDocument, utcnow
from core_api.lib.errors import ConflictException
from core_api.lib.schemas import MAX_PAGE_SIZE

D = TypeVar("D", bound=TenantDocument)


def parse_object_id(value: str | ObjectId, what: str = "resource") -> PydanticObjectId:
    """An ObjectId from a path/query value; invalid ones are 404 (they cannot name anything)."""
    if isinstance(value, ObjectId):
        return PydanticObjectId(value)
    try:
        return PydanticObjectId(value)
    except (InvalidId, TypeError, ValueError):
        raise NotFoundException(f"{what} {value!r} not found") from None


def text_filter(fields: Sequence[str], q: str) -> dict[str, Any]:
    """Case-insensitive substring search over fields; the user's text is escaped, never a regex."""
    pattern = re.escape(q.strip())
    return {"$or": [{f: {"$regex": pattern, "$options": "i"}} for f in fields]}


class TenantRepository(Generic[D]):
    """CRUD for one document type, always scoped to one empresa."""

    #: human name used in error messages ("placa", "cliente", ...)
    label = "resource"
    #: unique-index name → the field named in a 409 message
    unique_fields: Mapping[str, str] = {}

    def __init__(self, model: type[D], empresa_id: str | ObjectId, label: str | None = None) -> None:
        self.model = model
        self.empresa_id = PydanticObjectId(empresa_id)
        if label:
            self.label = label

    # -- queries --------------------------------------------------------------------------------
    def scoped(self, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """`query` restricted to this empresa. Callers cannot override the empresa."""
        q = dict(query or {})
        q["empresa_id"] = self.empresa_id
        return q

    async def get(self, doc_id: str | ObjectId) -> D:
        oid = parse_object_id(doc_id, self.label)
        doc = await self.model.find_one(self.scoped({"_id": oid}))
        if doc is None:
            raise NotFoundException(f"{self.label} {doc_id} not found")
        return doc

    async def find_one(self, query: Mapping[str, Any]) -> D | None:
        return await self.model.find_one(self.scoped(query))

    async def find_many(self, query: Mapping[str, Any] | None = None) -> list[D]:
        return await self.model.find(self.scoped(query)).to_list()

    async def count(self, query: Mapping[str, Any] | None = None) -> int:
        return await self.model.find(self.scoped(query)).count()

    async def page(
        self,
        query: Mapping[str, Any] | None = None,
        *,
        page: int = 1,
        page_size: int = 20,
        sort: str | None = None,
        allowed_sort: Sequence[str] = ("created_at",),
        default_sort: str = "-created_at",
    ) -> tuple[list[D], int]:
        """One page and the total. `sort` is a field name, `-` for descending, from `allowed_sort`."""
        page = max(page, 1)
        page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
        key = sort or default_sort
        field = key.lstrip("-")
        if field not in allowed_sort:
            from litestar.exceptions import ValidationException

            raise ValidationException(f"cannot sort by {field!r}; use one of: {', '.join(allowed_sort)}")
        direction = SortDirection.DESCENDING if key.startswith("-") else SortDirection.ASCENDING
        scoped = self.scoped(query)
        finder = self.model.find(scoped)
        total = await finder.count()
        items = (
            await self.model.find(scoped)
            .sort([(field, direction), ("_id", direction)])
            .skip((page - 1) * page_size)
            .limit(page_size)
            .to_list()
        )
        return items, total

    # -- writes ---------------------------------------------------------------------------------
    async def create(self, doc: D) -> D:
        doc.empresa_id = self.empresa_id
        try:
            await doc.insert()
        except DuplicateKeyError as exc:
            raise self._conflict(exc) from None
        return doc

    async def update(self, doc_id: str | ObjectId, changes: Mapping[str, Any]) -> D:
        """Set fields on one document of this empresa; `empresa_id` and `_id` cannot be changed."""
        oid = parse_object_id(doc_id, self.label)
        fields = {k: v for k, v in changes.items() if k not in ("empresa_id", "id", "_id")}
        fields["updated_at"] = utcnow()
        try:
            result = await self.model.get_pymongo_collection().update_one(
                self.scoped({"_id": oid}), {"$set": fields}
            )
        except DuplicateKeyError as exc:
            raise self._conflict(exc) from None
        except OperationFailure as exc:
            # FerretDB (SQLite) reports a unique violation on update as a generic error
            if "UNIQUE constraint failed" in str(exc):
                raise self._conflict(exc) from None
            raise
        if result.matched_count == 0:
            raise NotFoundException(f"{self.label} {doc_id} not found")
        return await self.get(oid)

    async def delete(self, doc_id: str | ObjectId) -> None:
        oid = parse_object_id(doc_id, self.label)
        result = await self.model.get_pymongo_collection().delete_one(self.scoped({"_id": oid}))
        if result.deleted_count == 0:
            raise NotFoundException(f"{self.label} {doc_id} not found")

    def _conflict(self, exc: OperationFailure) -> ConflictException:
        message = str(exc)
        fields = [field for index_name, field in self.unique_fields.items() if index_name in message]
        if not fields and len(self.unique_fields) == 1:
            # FerretDB's duplicate-key message on insert does not name the index
            fields = list(self.unique_fields.values())
        if fields:
            return ConflictException(
                f"a {self.label} with this {fields[0]} already exists", extra={"field": fields[0]}
            )
        return ConflictException(f"this {self.label} conflicts with an existing one")
