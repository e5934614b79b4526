"""schema.graphql at the root is the printed schema; this fails when it drifts."""

from pathlib import Path

from gateway.cli import main
from gateway.schema import schema

SCHEMA_FILE = Path(__file__).parent.parent / "schema.graphql"


def test_schema_graphql_is_the_printed_schema() -> None:
    assert SCHEMA_FILE.read_text() == schema.as_str() + "\n", "run `gateway export-schema > schema.graphql`"


def test_export_schema_check_passes_on_the_committed_file() -> None:
    assert main(["export-schema", "--check", "--path", str(SCHEMA_FILE)]) == 0


def test_export_schema_check_fails_on_drift(tmp_path: Path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: String }\n")
    assert main(["export-schema", "--check", "--path", str(stale)]) == 1


def test_the_contracts_core_is_in_the_schema() -> None:
    printed = schema.as_str()
    for line in (
        "node(id: ID!): Node",
        "workAreas: [WorkArea!]!",
        "workArea(workAreaId: ID!): WorkArea",
        "sequenceJob(workAreaId: ID!, jobId: ID!, deleted: Boolean! = false): SequenceJob",
        "gofilexOrder(orderId: ID!, portal: GofilexPortal! = EMEA): GofilexOrder",
        "gofilexOrders(orderIds: [ID!]!, portal: GofilexPortal! = EMEA): [GofilexOrder]!",
        "scalar Long",
        "gofilexOrders: [GofilexOrder!]!",
        "dependsOn: [GofilexJob!]!",
        "size: Long",
    ):
        assert line in printed, line
