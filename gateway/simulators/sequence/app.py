"""The Sequence REST API over the in-memory store (seed 000, upstreams/sequence.md).

Authentication, the rate limit, latency and faults are middlewares wrapped
around this app (see gateway.simulators.apps); here are the resources and
their rules.
"""

from __future__ import annotations

from typing import Any, NoReturn

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.simulators.sequence import bodies, paths
from gateway.simulators.sequence import representation as rep
from gateway.simulators.sequence.model import ASSET_STATUSES, JOB_FILTERS, TASK_STATUSES, Job, Note, Problem, WorkArea
from gateway.simulators.sequence.representation import Collection, JobView, Resource
from gateway.simulators.sequence.store import CHILD_KINDS, SequenceStore, find_child
from gateway.simulators.sequence.templates import TEMPLATES

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
# Inferred: the events page size is not documented.
EVENTS_PER_PAGE = 50
# Which children accept which writes: notes and problems are created,
# tasks, assets and problems updated (upstreams/sequence.md §3.4-3.7).
CREATABLE = {"notes", "problems"}
UPDATABLE = {"tasks", "assets", "problems"}
DEFAULT_USER = "robot_user"


class SequenceAPI:
    def __init__(self, store: SequenceStore, *, stray_closing_tag: bool = False) -> None:
        self.store = store
        self.stray_closing_tag = stray_closing_tag

    # plumbing ---------------------------------------------------------------
    def respond(self, request: Request, document: Resource | Collection, status: int = 200) -> Response:
        as_json = "application/json" in request.headers.get("accept", "")
        body, media_type = rep.render(document, as_json=as_json)
        return Response(body, status, media_type=media_type)

    @staticmethod
    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def area(self, request: Request) -> WorkArea:
        area = self.store.work_areas.get(request.path_params["work_area_id"])
        if area is None:
            raise HTTPException(404, "Work area not found")
        return area

    def job(self, request: Request, *, write: bool = False) -> Job:
        """The job a URL names, by the deleted-view rules of seed 000."""
        area = self.area(request)
        deleted = deleted_flag(request)
        if deleted and write:
            raise HTTPException(405, "Deleted jobs cannot be modified", {"Allow": "GET"})
        job = area.jobs.get(request.path_params["job_id"])
        # A deleted job read without the flag is a 404, and the flag only
        # reaches deleted jobs.
        if job is None or job.deleted != deleted:
            raise HTTPException(404, "Job not found")
        return job

    def job_resource(self, request: Request, job: Job, view: JobView) -> Resource:
        area = self.store.work_areas[job.work_area_id]
        if job.deleted:
            view = JobView.DELETED
        return rep.job(job, self.base(request), self.store.clock.today(), view, area.utc_offset)

    @staticmethod
    def user(request: Request) -> str:
        return str(request.scope.get("state", {}).get("user", DEFAULT_USER))

    @staticmethod
    async def body(request: Request, root: str) -> dict[str, Any]:
        return bodies.parse(await request.body(), request.headers.get("content-type"), root)

    # root, work areas, events ------------------------------------------------------
    async def root(self, request: Request) -> Response:
        return self.respond(request, rep.root(self.base(request)))

    async def work_areas(self, request: Request) -> Response:
        base = self.base(request)
        entries = [rep.work_area(area, base) for area in self.store.work_areas.values()]
        return self.respond(request, Collection("work-areas", entries))

    async def work_area(self, request: Request) -> Response:
        return self.respond(request, rep.work_area(self.area(request), self.base(request)))

    async def events(self, request: Request) -> Response:
        newer_than = request.query_params.get("newer_than")
        if newer_than is not None and not newer_than.isdigit():
            unprocessable("newer_than must be an event id")
        after = int(newer_than) if newer_than is not None else None
        found = self.store.events_after(after, EVENTS_PER_PAGE + 1)
        base = self.base(request)
        page = found[:EVENTS_PER_PAGE]
        collection = Collection("events", [rep.event(item, base) for item in page])
        if len(found) > EVENTS_PER_PAGE:
            collection.links.append(rep.Link("next", f"{base}{paths.events()}?newer_than={page[-1].id}"))
        return self.respond(request, collection)

    async def event(self, request: Request) -> Response:
        found = self.store.event(request.path_params["event_id"])
        if found is None:
            raise HTTPException(404, "Event not found")
        return self.respond(request, rep.event(found, self.base(request)))

    # jobs -------------------------------------------------------------------------
    async def list_jobs(self, request: Request) -> Response:
        area = self.area(request)
        params = request.query_params
        deleted = deleted_flag(request)
        filter_name = params.get("filter")
        if filter_name is not None and filter_name not in JOB_FILTERS:
            # Inferred: the docs list the valid values but not the answer to others.
            unprocessable(f"filter must be one of {', '.join(JOB_FILTERS)}")
        jobs = self.store.jobs(area.id, deleted=deleted, filter_name=filter_name)
        view = JobView.DELETED if deleted else JobView.LIST
        collection = Collection("jobs", [], stray_closing_tag=self.stray_closing_tag)
        if params.get("pagination") == "true":
            per_page = page_number(params.get("per_page"), "per_page", DEFAULT_PER_PAGE)
            if per_page > MAX_PER_PAGE:
                unprocessable(f"per_page maximum value is {MAX_PER_PAGE}")
            page = page_number(params.get("page"), "page", 1)
            start = (page - 1) * per_page
            collection.total_entries = len(jobs)
            link = PageLink(self.base(request) + paths.jobs(area.id), params.get("per_page"), filter_name, deleted)
            if page > 1:
                collection.links.append(rep.Link("prev", link.to(page - 1)))
            if start + per_page < len(jobs):
                collection.links.append(rep.Link("next", link.to(page + 1)))
            jobs = jobs[start : start + per_page]
        collection.entries = [self.job_resource(request, job, view) for job in jobs]
        return self.respond(request, collection)

    async def get_job(self, request: Request) -> Response:
        return self.respond(request, self.job_resource(request, self.job(request), JobView.ITEM))

    async def create_job(self, request: Request) -> Response:
        area = self.area(request)
        if deleted_flag(request):
            raise HTTPException(405, "Jobs cannot be created in the deleted view", {"Allow": "GET"})
        fields = await self.body(request, "job")
        check = bodies.Validator(fields)
        check.text("name", required=True)
        check.date("begins_at", required=True)
        check.text("licensor_name", required=True)
        check.text("template", required=True)
        check.date("ends_at")
        check.text("tag_list")
        check.text("title_external_id")
        template = check.values.get("template")
        if template and template not in TEMPLATES:
            check.errors.append(f"Template '{template}' does not exist")
        job = self.store.create_job(area.id, check.check())
        # The seed documents 200 (not 201) for a created job.
        return self.respond(request, self.job_resource(request, job, JobView.CREATED))

    async def update_job(self, request: Request) -> Response:
        job = self.job(request, write=True)
        fields = await self.body(request, "job")
        check = bodies.Validator(fields)
        check.text("name", required="name" in fields)
        check.date("begins_at", required="begins_at" in fields)
        check.date("ends_at")
        check.text("licensor_name", required="licensor_name" in fields)
        check.text("tag_list")
        check.text("title_external_id")
        # Read-only attributes (id, status, due_date ...) in the body are ignored.
        values = check.check()
        if values.get("tag_list") is None and "tag_list" in values:
            values["tag_list"] = ""
        self.store.update_job(job, values)
        return self.respond(request, self.job_resource(request, job, JobView.UPDATED))

    async def delete_job(self, request: Request) -> Response:
        self.store.delete_job(self.job(request, write=True))
        return Response(status_code=204)

    # children -----------------------------------------------------------------------
    def kind(self, request: Request) -> str:
        kind = request.path_params["kind"]
        if kind not in CHILD_KINDS:
            raise HTTPException(404, "Not found")
        return kind

    async def list_children(self, request: Request) -> Response:
        kind = self.kind(request)
        job = self.job(request)
        base = self.base(request)
        return self.respond(
            request, Collection(kind, [rep.child(kind, item, job, base) for item in getattr(job, kind)])
        )

    async def get_child(self, request: Request) -> Response:
        kind = self.kind(request)
        job = self.job(request)
        item = find_child(job, kind, request.path_params["child_id"])
        if item is None:
            raise HTTPException(404, f"{CHILD_KINDS[kind].capitalize()} not found")
        return self.respond(request, rep.child(kind, item, job, self.base(request)))

    async def create_child(self, request: Request) -> Response:
        kind = self.kind(request)
        if kind not in CREATABLE:
            raise HTTPException(405, "Method not allowed", {"Allow": "GET"})
        job = self.job(request, write=True)
        fields = await self.body(request, CHILD_KINDS[kind])
        check = bodies.Validator(fields)
        store = self.store
        if kind == "notes":
            check.text("body", required=True)
            values = check.check()
            item: Note | Problem = Note(
                store.next_id("note"), job.id, values["body"], self.user(request), store.clock.now()
            )
            status = 200  # documented for notes
        else:
            check.text("description", required=True)
            check.boolean("dismissed")
            values = check.check()
            item = Problem(
                store.next_id("problem"),
                job.id,
                values["description"],
                self.user(request),
                bool(values.get("dismissed")),
            )
            status = 201  # inferred from the status-codes guide: POST answers 201
        store.add_child(job, kind, item)
        return self.respond(request, rep.child(kind, item, job, self.base(request)), status)

    async def update_child(self, request: Request) -> Response:
        kind = self.kind(request)
        if kind not in UPDATABLE:
            raise HTTPException(405, "Method not allowed", {"Allow": "GET"})
        job = self.job(request, write=True)
        item = find_child(job, kind, request.path_params["child_id"])
        if item is None:
            raise HTTPException(404, f"{CHILD_KINDS[kind].capitalize()} not found")
        fields = await self.body(request, CHILD_KINDS[kind])
        check = bodies.Validator(fields)
        if kind == "tasks":
            check.choice("status", TASK_STATUSES)
            check.duration("duration")
            values = check.check()
            _check_task(item, values)
        elif kind == "assets":
            check.choice("status", ASSET_STATUSES)
            check.integer("progress", 0, 100)
            check.text("type_name", required="type_name" in fields)
            values = check.check()
        else:
            check.text("description", required="description" in fields)
            check.boolean("dismissed")
            values = check.check()
            if values.get("dismissed") is None:
                values.pop("dismissed", None)
        self.store.update_child(job, kind, item, values)
        return self.respond(request, rep.child(kind, item, job, self.base(request)))

    def routes(self) -> list[Route]:
        job = "/api/work_areas/{work_area_id:int}/jobs/{job_id:int}"
        return [
            Route("/api", self.root, methods=["GET"]),
            Route("/api/work_areas", self.work_areas, methods=["GET"]),
            Route("/api/work_areas/{work_area_id:int}", self.work_area, methods=["GET"]),
            Route("/api/work_areas/{work_area_id:int}/jobs", self.list_jobs, methods=["GET"]),
            Route("/api/work_areas/{work_area_id:int}/jobs", self.create_job, methods=["POST"]),
            Route(job, self.get_job, methods=["GET"]),
            Route(job, self.update_job, methods=["PUT"]),
            Route(job, self.delete_job, methods=["DELETE"]),
            Route(job + "/{kind}", self.list_children, methods=["GET"]),
            Route(job + "/{kind}", self.create_child, methods=["POST"]),
            Route(job + "/{kind}/{child_id:int}", self.get_child, methods=["GET"]),
            Route(job + "/{kind}/{child_id:int}", self.update_child, methods=["PUT"]),
            Route("/api/events", self.events, methods=["GET"]),
            Route("/api/events/{event_id:int}", self.event, methods=["GET"]),
        ]


def _check_task(task: Any, values: dict[str, Any]) -> None:
    duration = values.get("duration", task.duration)
    if values.get("duration") and not task.requires_duration:
        # Inferred: the Task page says duration is only present on tasks that require one.
        raise bodies.BodyError(["Duration can only be set on a task that requires a duration"])
    if task.requires_duration and values.get("status", task.status) == "completed" and not duration:
        raise bodies.BodyError(["Duration can't be blank when completing a task that requires a duration"])


class PageLink:
    """next/prev links in the seed's form (`?page=2&pagination=true`), keeping
    the caller's per_page, filter and deleted flag."""

    def __init__(self, url: str, per_page: str | None, filter_name: str | None, deleted: bool) -> None:
        self.url, self.per_page, self.filter_name, self.deleted = url, per_page, filter_name, deleted

    def to(self, page: int) -> str:
        query = f"page={page}&pagination=true"
        if self.per_page is not None:
            query += f"&per_page={self.per_page}"
        if self.filter_name is not None:
            query += f"&filter={self.filter_name}"
        if self.deleted:
            query += "&deleted"
        return f"{self.url}?{query}"


def deleted_flag(request: Request) -> bool:
    value = request.query_params.get("deleted")
    return value is not None and value.lower() not in ("false", "0")


def page_number(raw: str | None, name: str, default: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        unprocessable(f"{name} must be a positive integer")
    return int(raw)


def unprocessable(message: str) -> NoReturn:
    """A 422 for a bad query parameter, as `<error><message>` like the per_page one."""
    raise HTTPException(422, message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    # Inferred: Sequence answers errors in XML whatever the Accept header
    # (its official client parses XML error bodies only).
    return Response(rep.error_document(exc.detail), exc.status_code, headers, media_type=rep.XML_MEDIA_TYPE)


async def _body_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, bodies.BodyError):
        return Response(rep.validation_document(exc.messages), 422, media_type=rep.XML_MEDIA_TYPE)
    if isinstance(exc, bodies.UnsupportedMediaType):
        message = f"Content-Type must be application/xml or application/json, not {exc}"
        return Response(rep.error_document(message), 415, media_type=rep.XML_MEDIA_TYPE)
    return Response(rep.error_document(f"Malformed request body: {exc}"), 400, media_type=rep.XML_MEDIA_TYPE)


def create_sequence_app(store: SequenceStore, *, stray_closing_tag: bool = False) -> Starlette:
    api = SequenceAPI(store, stray_closing_tag=stray_closing_tag)
    return Starlette(
        routes=api.routes(),
        exception_handlers={
            HTTPException: _http_error,
            bodies.BodyError: _body_error,
            bodies.UnsupportedMediaType: _body_error,
            bodies.MalformedBody: _body_error,
        },
    )
