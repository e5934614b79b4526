"""Every query of the contract against the simulators, with the upstream calls it costs."""

from __future__ import annotations

import base64
import time

import httpx

from gateway.simulators.gofilex.data import Portal
from gateway.simulators.gofilex.model import OrderKind
from tests.integration.conftest import Gateway

PAGE_WITH_CHILDREN = """
query Page($after: String) {
  workArea(workAreaId: "10") {
    workAreaId
    jobs(first: 50, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { jobId } }
      nodes {
        id jobId name dueDate beginsAt endsAt licensorName status tasksStatus assetsStatus tags titleExternalId deleted
        schedulingUrl metadataUrl titleUrl webUrl
        tasks { id taskId name status position requiresDuration duration }
        assets { id assetId typeName status progress }
        notes { id noteId body creator createdAt }
        problems { id problemId description dismissed reporter }
      }
    }
  }
}
"""


def routes(stats: dict) -> dict[str, int]:
    return stats["by_route"]


def test_work_areas_lists_every_work_area(gateway: Gateway) -> None:
    data = gateway.data("{ workAreas { id workAreaId name } }")
    assert [(area["workAreaId"], area["name"]) for area in data["workAreas"]] == [
        ("10", "VOD Europe"),
        ("11", "VOD Americas"),
    ]


def test_a_page_of_50_jobs_with_four_children_costs_201_calls_cold_and_none_warm(gateway: Gateway) -> None:
    gateway.reset_stats()
    started = time.perf_counter()
    cold = gateway.data(PAGE_WITH_CHILDREN)
    cold_seconds = time.perf_counter() - started
    stats = gateway.sequence_stats()
    # One list call, then tasks, assets, notes and problems of each job; and
    # the digest challenge met once.
    assert stats["by_status"] == {"200": 201, "401": 1}
    jobs = cold["workArea"]["jobs"]["nodes"]
    assert len(jobs) == 50
    assert all(job["tasks"] and job["assets"] and job["notes"] and job["problems"] for job in jobs)
    gateway.reset_stats()
    started = time.perf_counter()
    warm = gateway.data(PAGE_WITH_CHILDREN)
    warm_seconds = time.perf_counter() - started
    assert gateway.sequence_stats()["total"] == 0
    assert warm == cold
    print(f"\n50-job page with four children: cold {cold_seconds * 1000:.0f} ms, warm {warm_seconds * 1000:.0f} ms")


def test_connection_pages_follow_cursors_to_the_end(gateway: Gateway) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = gateway.data(
            'query($after: String) { workArea(workAreaId: "10") { jobs(first: 70, after: $after) {'
            " totalCount pageInfo { hasNextPage endCursor } nodes { jobId } } } }",
            {"after": after},
        )["workArea"]["jobs"]
        seen += [job["jobId"] for job in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    store = gateway.running.simulators.sequence_store
    assert seen == [str(job.id) for job in store.work_areas[10].jobs.values() if not job.deleted]
    assert page["totalCount"] == len(seen)


def test_a_window_across_upstream_pages_costs_one_call(gateway: Gateway) -> None:
    first = gateway.data(
        '{ workArea(workAreaId: "10") { jobs(first: 30) { nodes { jobId } pageInfo { endCursor } } } }'
    )
    cursor = first["workArea"]["jobs"]["pageInfo"]["endCursor"]
    gateway.reset_stats()
    second = gateway.data(
        'query($a: String) { workArea(workAreaId: "10") { jobs(first: 50, after: $a) { nodes { jobId } } } }',
        {"a": cursor},
    )
    # Jobs 30..79 come from one page of 80, not two pages of 50.
    assert gateway.sequence_stats()["total"] == 1
    ids = [job["jobId"] for job in second["workArea"]["jobs"]["nodes"]]
    assert len(ids) == 50
    assert int(ids[0]) > int(first["workArea"]["jobs"]["nodes"][-1]["jobId"])


def test_first_over_200_is_refused_as_bad_user_input(gateway: Gateway) -> None:
    body = gateway.query('{ workArea(workAreaId: "10") { jobs(first: 201) { totalCount } } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "200" in body["errors"][0]["message"]


def test_a_forged_cursor_is_refused_as_bad_user_input(gateway: Gateway) -> None:
    body = gateway.query('{ workArea(workAreaId: "10") { jobs(after: "not-a-cursor") { totalCount } } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_filters_and_the_deleted_view_reach_sequence(gateway: Gateway) -> None:
    data = gateway.data(
        '{ workArea(workAreaId: "10") {'
        " problematic: jobs(filter: PROBLEMATIC, first: 200) { totalCount nodes { jobId } }"
        " deleted: jobs(deleted: true, first: 200) { totalCount nodes { jobId deleted } } } }"
    )
    store = gateway.running.simulators.sequence_store
    jobs = store.work_areas[10].jobs.values()
    expected = [str(job.id) for job in sorted(jobs, key=lambda job: job.id) if job.problematic and not job.deleted]
    assert [job["jobId"] for job in data["workArea"]["problematic"]["nodes"]] == expected
    deleted = data["workArea"]["deleted"]
    assert deleted["totalCount"] == sum(job.deleted for job in jobs)
    assert all(job["deleted"] for job in deleted["nodes"])


def test_sequence_job_reads_a_job_and_a_deleted_one(gateway: Gateway) -> None:
    store = gateway.running.simulators.sequence_store
    live = next(job for job in store.work_areas[10].jobs.values() if not job.deleted)
    gone = next(job for job in store.work_areas[10].jobs.values() if job.deleted)
    query = (
        'query($job: ID!, $deleted: Boolean!) { sequenceJob(workAreaId: "10", jobId: $job, deleted: $deleted)'
        " { jobId name deleted webUrl notes { body } } }"
    )
    assert gateway.data(query, {"job": str(live.id), "deleted": False})["sequenceJob"]["name"] == live.name
    assert gateway.data(query, {"job": str(gone.id), "deleted": False})["sequenceJob"] is None
    deleted = gateway.data(query, {"job": str(gone.id), "deleted": True})["sequenceJob"]
    assert deleted["deleted"] is True
    assert deleted["webUrl"].endswith("?deleted=true")
    assert [note["body"] for note in deleted["notes"]] == [note.body for note in gone.notes]


def test_unknown_work_area_fails_its_jobs_with_not_found(gateway: Gateway) -> None:
    body = gateway.query('{ workArea(workAreaId: "999") { workAreaId jobs { totalCount } } }')
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["errors"][0]["path"] == ["workArea", "jobs"]


def order_ids(gateway: Gateway, portal: Portal, kind: OrderKind | None = None) -> list[str]:
    orders = gateway.running.simulators.gofilex_data.orders(portal).values()
    return [order.id for order in orders if kind is None or order.kind == kind]


ORDER_GRAPH = """
query($id: ID!, $portal: GofilexPortal!) {
  gofilexOrder(orderId: $id, portal: $portal) {
    id orderId portal state cleaned medium distributor { name } company { name } progress { step total }
    jobs {
      id jobId type state running completed runs retries priority weakDependencies description
      dependsOn { jobId type dependsOn { jobId } }
      dependents { jobId type }
      resolvedDependencies { jobId } remainingDependencies { jobId } rejectedDependencies { jobId }
      digitalCinemaPackage { uuid description contentKind standard size assets { uuid hash role size path } }
      run { runId attempt start update finish error { code message name }
            progress { download { done percentage skip step total speed } hash { percentage } } }
    }
  }
}
"""


def test_gofilex_order_answers_its_job_graph_two_levels_deep(gateway: Gateway) -> None:
    (order_id,) = order_ids(gateway, Portal.APAC, OrderKind.FAILED)[:1]
    gateway.reset_stats()
    order = gateway.data(ORDER_GRAPH, {"id": order_id, "portal": "APAC"})["gofilexOrder"]
    # One orders/status call and one jobs/by/order call.
    assert gateway.gofilex_stats()["total"] == 2
    assert (order["orderId"], order["portal"], order["state"], order["cleaned"]) == (order_id, "APAC", "failed", False)
    jobs = {job["jobId"]: job for job in order["jobs"]}
    email = next(job for job in jobs.values() if job["type"] == "email")
    assert email["weakDependencies"] is True
    assert {job["type"] for job in email["dependsOn"]} == {"link"}
    for link in email["dependsOn"]:
        assert [job["jobId"] for job in jobs[link["jobId"]]["dependents"]] == [email["jobId"]]
    failed = next(job for job in jobs.values() if job["state"] == "failed")
    assert failed["run"]["attempt"] == -1
    assert failed["run"]["error"]["code"]
    assert failed["digitalCinemaPackage"]["size"] > 2**31
    assert all(asset["size"] for asset in failed["digitalCinemaPackage"]["assets"])
    rejected_by = [job for job in jobs.values() if failed["jobId"] in [d["jobId"] for d in job["rejectedDependencies"]]]
    assert rejected_by


def test_cleaned_order_has_no_jobs(gateway: Gateway) -> None:
    (order_id,) = order_ids(gateway, Portal.EMEA, OrderKind.CLEANED)[:1]
    order = gateway.data(ORDER_GRAPH, {"id": order_id, "portal": "EMEA"})["gofilexOrder"]
    assert (order["cleaned"], order["jobs"]) == (True, [])


def test_unknown_order_is_null(gateway: Gateway) -> None:
    assert gateway.data(ORDER_GRAPH, {"id": "A" * 17, "portal": "EMEA"})["gofilexOrder"] is None


def test_gofilex_orders_asks_for_many_orders_in_one_call(gateway: Gateway) -> None:
    ids = order_ids(gateway, Portal.NORAM)
    gateway.reset_stats()
    data = gateway.data(
        "query($ids: [ID!]!) { gofilexOrders(orderIds: $ids, portal: NORAM) { orderId state } }",
        {"ids": [*ids, "unknownorder00000"]},
    )
    assert gateway.gofilex_stats()["total"] == 1
    assert [order["orderId"] for order in data["gofilexOrders"][:-1]] == ids
    assert data["gofilexOrders"][-1] is None


def test_job_gofilex_orders_resolve_in_one_status_call_per_portal(gateway: Gateway) -> None:
    store = gateway.running.simulators.sequence_store
    linked = [job for job in store.work_areas[10].jobs.values() if "gofilex:" in job.tag_list and not job.deleted]
    gateway.reset_stats()
    data = gateway.data(
        '{ workArea(workAreaId: "10") { jobs(first: 200) {'
        " nodes { jobId tags gofilexOrders { orderId portal state } } } } }"
    )
    nodes = [job for job in data["workArea"]["jobs"]["nodes"] if job["gofilexOrders"]]
    assert {job["jobId"] for job in nodes} == {str(job.id) for job in linked if job.id <= int(nodes[-1]["jobId"])}
    portals = {order["portal"] for job in nodes for order in job["gofilexOrders"]}
    assert gateway.gofilex_stats()["total"] == len(portals)
    assert all(order["state"] for job in nodes for order in job["gofilexOrders"])


def test_node_refetches_every_type(gateway: Gateway) -> None:
    (order_id,) = order_ids(gateway, Portal.MPS, OrderKind.COMPLETED)[:1]
    data = gateway.data(
        '{ workAreas { id } workArea(workAreaId: "10") { jobs(first: 1) { nodes { id'
        " tasks { id } assets { id } notes { id } problems { id } hooks { id } } } }"
        f' gofilexOrder(orderId: "{order_id}", portal: MPS) {{ id jobs {{ id }} }} }}'
    )
    job = data["workArea"]["jobs"]["nodes"][0]
    ids = [data["workAreas"][0]["id"], job["id"], data["gofilexOrder"]["id"], data["gofilexOrder"]["jobs"][0]["id"]]
    for kind in ("tasks", "assets", "notes", "problems", "hooks"):
        ids += [child["id"] for child in job[kind][:1]]
    for node_id in ids:
        node = gateway.data("query($id: ID!) { node(id: $id) { id __typename } }", {"id": node_id})["node"]
        assert node is not None and node["id"] == node_id, node_id


def test_node_with_a_malformed_id_is_bad_user_input(gateway: Gateway) -> None:
    for bad in ("nonsense", base64.urlsafe_b64encode(b"SequenceJob:10").decode(), base64.b64encode(b"Nope:1").decode()):
        body = gateway.query("query($id: ID!) { node(id: $id) { id } }", {"id": bad})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", bad


def test_graphql_answers_get_and_graphql_response_json(gateway: Gateway) -> None:
    response = gateway.client.get("/graphql", params={"query": "{ workAreas { workAreaId } }"})
    assert response.status_code == 200
    assert response.json()["data"]["workAreas"]
    response = gateway.client.post(
        "/graphql",
        json={"query": "{ workAreas { workAreaId } }"},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphql-response+json")


def test_graphiql_is_served_to_browsers(gateway: Gateway) -> None:
    response = gateway.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_healthz_and_readyz(gateway: Gateway) -> None:
    assert gateway.client.get("/healthz").json() == {"status": "ok"}
    ready = gateway.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["upstreams"] == {
        "sequence": "ok",
        "gofilex:EMEA": "ok",
        "gofilex:APAC": "ok",
        "gofilex:MPS": "ok",
        "gofilex:NORAM": "ok",
    }


def test_malformed_queries_get_errors_not_500s(gateway: Gateway) -> None:
    for body in ({"query": "{ workAreas { "}, {"query": "{ nope }"}, {"query": 5}, {}):
        response = gateway.client.post("/graphql", json=body)
        assert response.status_code in (200, 400), body
        assert response.status_code != 500
    assert (
        gateway.client.post("/graphql", content=b"{not json", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert httpx.get(gateway.url + "/graphql?query={workAreas{workAreaId}}&variables=[").status_code == 400
