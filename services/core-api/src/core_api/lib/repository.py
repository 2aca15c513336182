"""The one place where tenant isolation is enforced, and the one way core-api writes.

Every read, write and delete of a tenant-owned document goes through `TenantRepository`, which
adds `empresa_id` to every filter. Handlers never build raw queries: an id from another empresa,
or one that is not a valid ObjectId, is simply "not found" (404).

Writes are compare-and-set on every MongoDB-wire server: `locked(id)` takes the document's lease
(`shared.atomic`: a unique insert, the one thing FerretDB v1 decides atomically), reads the
document fresh, and lets the caller check its rule and `write()` — an update conditional on the
`version` it read, which bumps it. Two writers of one document therefore run one after the other:
no lost update, one winner per transition. On MongoDB proper the conditional update alone would
already be atomic; the lease makes FerretDB equal to it (docs/mongodb-vs-ferretdb.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from beanie import PydanticObjectId, SortDirection
from bson import ObjectId
from bson.errors import InvalidId
from litestar.exceptions import ServiceUnavailableException
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure
from shared.atomic import Lease, LeaseBusy, LeaseLost, Leases
from shared.transient import retrying

from core_api.lib.documents import TenantDocument, utcnow
from core_api.lib.errors import ConflictException, conflict, item, not_found
from core_api.lib.schemas import MAX_PAGE_SIZE

D = TypeVar("D", bound=TenantDocument)

#: how long a request waits for another writer of the same document before answering 409
LOCK_WAIT = 10.0


#: set by the Idempotency-Key middleware for the request it runs: the key's record id, and how many
#: documents of each collection the request created so far
idempotency_scope: ContextVar[tuple[str, dict[str, int]] | None] = ContextVar(
    "idempotency_scope", default=None
)


def new_id(collection: str) -> PydanticObjectId:
    """The `_id` of a document about to be created.

    Under an Idempotency-Key it is derived from the key (and the collection, and how many documents
    of it this request created before): a request run again with the same key — its first run died
    after saving, before its answer was kept — creates the *same* documents, so the repeat collides
    with what the first run saved instead of saving it twice (see `TenantRepository.create`).
    """
    scope = idempotency_scope.get()
    if scope is None:
        return PydanticObjectId()
    record_id, counters = scope
    n = counters.get(collection, 0)
    counters[collection] = n + 1
    return PydanticObjectId(hashlib.sha256(f"{record_id}|{collection}|{n}".encode()).digest()[:12])


def lock_key(collection: str, doc_id: Any) -> str:
    """The lease key of one document (also used by the booking protocol and the sweeps)."""
    return f"{collection}:{doc_id}"


def leases_of(db: AsyncDatabase[Any]) -> Leases:
    return Leases(db)


def busy(what: str) -> ConflictException:
    return conflict(f"{what} is being changed by another request; retry", "busy")


@asynccontextmanager
async def holding(
    db: AsyncDatabase[Any], key: str, what: str, *, wait: float = LOCK_WAIT, renew: bool = False
) -> AsyncIterator[Lease]:
    """Hold the lease on `key` (a document or a rule spanning documents, e.g. an empresa's admins).
    Busy for longer than `wait` → 409; a lease that ran out before the write → 503."""
    try:
        async with leases_of(db).hold(key, wait=wait, renew=renew) as lease:
            yield lease
    except LeaseBusy:
        raise busy(what) from None
    except LeaseLost:
        raise ServiceUnavailableException(f"changing {what} took too long and was not saved; retry") from None


def version_filter(version: int) -> Any:
    """Documents written before versions existed have none: they are version 0."""
    return version if version else {"$in": [0, None]}


def parse_object_id(value: str | ObjectId, what: str = "resource") -> PydanticObjectId:
    """An ObjectId from a path/query value; invalid ones are 404 (they cannot name anything)."""
    if isinstance(value, ObjectId):
        return PydanticObjectId(value)
    try:
        return PydanticObjectId(value)
    except (InvalidId, TypeError, ValueError):
        raise not_found(f"{what} {value!r} not found", what, value) from None


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
        #: documents this repository holds the lease of (by `locked()`), for `write()`
        self._held: dict[ObjectId, Lease] = {}

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
            raise not_found(f"{self.label} {doc_id} not found", self.label, doc_id)
        return doc

    async def find_one(self, query: Mapping[str, Any]) -> D | None:
        return await self.model.find_one(self.scoped(query))

    async def find_many(self, query: Mapping[str, Any] | None = None) -> list[D]:
        return await self.model.find(self.scoped(query)).to_list()

    async def find_many_sorted(
        self, query: Mapping[str, Any], *, sort: list[tuple[str, SortDirection]], limit: int
    ) -> list[D]:
        return await self.model.find(self.scoped(query)).sort(sort).limit(limit).to_list()

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
        total: Callable[[Mapping[str, Any], Callable[[], Awaitable[int]]], Awaitable[int]] | None = None,
    ) -> tuple[list[D], int]:
        """One page and the total. `sort` is a field name, `-` for descending, from `allowed_sort`.
        `total(query, count)` may answer the count from elsewhere (a cache) instead of `count()`."""
        page = max(page, 1)
        page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
        key = sort or default_sort
        field = key.lstrip("-")
        if field not in allowed_sort:
            from litestar.exceptions import ValidationException

            raise ValidationException(f"cannot sort by {field!r}; use one of: {', '.join(allowed_sort)}")
        direction = SortDirection.DESCENDING if key.startswith("-") else SortDirection.ASCENDING
        scoped = self.scoped(query)
        counter = self.model.find(scoped).count
        n = await (total(scoped, counter) if total is not None else counter())
        items = (
            await self.model.find(scoped)
            .sort([(field, direction), ("_id", direction)])
            .skip((page - 1) * page_size)
            .limit(page_size)
            .to_list()
        )
        return items, n

    # -- writes ---------------------------------------------------------------------------------
    async def create(self, doc: D) -> D:
        """Insert a new document; a transient failure is retried (the `_id` is chosen before the
        first try, so a repeat of an insert that was applied collides instead of inserting twice).

        A collision with a document that has *this* `_id` is that earlier try — or, under an
        Idempotency-Key, the same request's first run (`new_id`) —, so it is the one created:
        returned as is. Any other collision is a unique field taken (409)."""
        doc.empresa_id = self.empresa_id
        if doc.id is None:
            doc.id = new_id(self.collection_name)
        try:
            await retrying(doc.insert, what=f"insert of a {self.label}")
        except DuplicateKeyError as exc:
            existing = await retrying(lambda: self.model.find_one(self.scoped({"_id": doc.id})))
            if existing is not None:
                return existing
            raise self._conflict(exc) from None
        return doc

    @property
    def collection_name(self) -> str:
        return self.model.get_collection_name()

    @property
    def db(self) -> AsyncDatabase[Any]:
        return self.model.get_pymongo_collection().database

    def key(self, oid: ObjectId) -> str:
        return lock_key(self.collection_name, oid)

    @asynccontextmanager
    async def locked(self, doc_id: str | ObjectId, *, wait: float = LOCK_WAIT) -> AsyncIterator[D]:
        """The document, read fresh while this request alone may write it (see the module doc)."""
        oid = parse_object_id(doc_id, self.label)
        async with holding(self.db, self.key(oid), f"this {self.label}", wait=wait) as lease:
            doc = await self.get(oid)
            self._held[oid] = lease
            try:
                yield doc
            finally:
                self._held.pop(oid, None)

    async def write(self, doc: D, changes: Mapping[str, Any]) -> D:
        """Set fields on a document held with `locked()`; conditional on the version read.

        `empresa_id` and `_id` cannot be changed. Returns the document as written."""
        lease = self._held.get(doc.id)  # type: ignore[arg-type]
        if lease is None:
            raise RuntimeError(f"write of {self.label} {doc.id} without holding it (use locked())")
        fields = {k: v for k, v in changes.items() if k not in ("empresa_id", "id", "_id", "version")}
        fields["updated_at"] = utcnow()
        fields["version"] = doc.version + 1
        try:
            lease.check()
        except LeaseLost:
            raise ServiceUnavailableException(f"changing this {self.label} took too long; retry") from None
        collection = self.model.get_pymongo_collection()
        retried = False

        async def note_retry(_: BaseException) -> None:
            nonlocal retried
            retried = True

        try:
            # compare-and-set on the version read: a repeat of an update that was applied matches
            # nothing (the version moved on), checked below — safe to retry
            result = await retrying(
                lambda: collection.update_one(
                    self.scoped({"_id": doc.id, "version": version_filter(doc.version)}), {"$set": fields}
                ),
                what=f"update of a {self.label}",
                on_retry=note_retry,
            )
        except DuplicateKeyError as exc:
            raise self._conflict(exc) from None
        except OperationFailure as exc:
            # FerretDB (SQLite) reports a unique violation on update as a generic error
            if "UNIQUE constraint failed" in str(exc):
                raise self._conflict(exc) from None
            raise
        if result.matched_count == 0 and retried:
            current = await collection.find_one(self.scoped({"_id": doc.id}), {"version": 1})
            if current is not None and current.get("version") == fields["version"]:
                return doc.model_copy(update=fields)  # an earlier try was applied after all
        if result.matched_count == 0:
            # only reachable when a holder outlived its lease (MongoDB's conditional update fences it)
            raise conflict(
                f"the {self.label} changed meanwhile; reload it and retry",
                "busy",
                item(self.label, id=str(doc.id)),
            )
        return doc.model_copy(update=fields)

    async def write_owned(self, query: Mapping[str, Any], changes: Mapping[str, Any]) -> int:
        """Set fields on documents that belong to one the caller holds (a PI's aluguéis): nobody
        writes them except through their owner, so the owner's lease covers them."""
        fields = dict(changes)
        fields["updated_at"] = utcnow()
        result = await self.model.get_pymongo_collection().update_many(
            self.scoped(query), {"$set": fields, "$inc": {"version": 1}}
        )
        return result.modified_count

    async def update(self, doc_id: str | ObjectId, changes: Mapping[str, Any]) -> D:
        """Set fields on one document of this empresa, compare-and-set (see `locked`/`write`)."""
        async with self.locked(doc_id) as doc:
            return await self.write(doc, changes)

    async def delete(self, doc_id: str | ObjectId) -> None:
        async with self.locked(doc_id) as doc:
            await self.model.get_pymongo_collection().delete_one(self.scoped({"_id": doc.id}))

    def _conflict(self, exc: OperationFailure) -> ConflictException:
        message = str(exc)
        fields = [field for index_name, field in self.unique_fields.items() if index_name in message]
        if not fields and len(self.unique_fields) == 1:
            # FerretDB's duplicate-key message on insert does not name the index
            fields = list(self.unique_fields.values())
        if fields:
            return conflict(
                f"a {self.label} with this {fields[0]} already exists",
                "duplicate",
                item(self.label, field=fields[0]),
            )
        return conflict(f"this {self.label} conflicts with an existing one", "duplicate", item(self.label))
