"""The public-API contract (tests/import_contracts.py) finds an import of a feature's private module."""

from __future__ import annotations

from grimp import ImportGraph

from tests.import_contracts import PublicApiContract


def _graph(*imports: tuple[str, str]) -> ImportGraph:
    graph = ImportGraph()
    for module in ("app", "app.loyalty", "app.loyalty.api", "app.loyalty.ledger", "app.referrals", "app.referrals.x"):
        graph.add_module(module)
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported, line_number=3, line_contents=f"import {imported}")
    return graph


def _check(graph: ImportGraph):
    contract = PublicApiContract(
        name="public", session_options={}, contract_options={"features": ["app.loyalty"], "public": ["api"]}
    )
    return contract.check(graph, verbose=False)


def test_other_packages_may_import_the_feature_and_its_api_only():
    allowed = _graph(
        ("app.referrals.x", "app.loyalty.api"),
        ("app", "app.loyalty"),
        ("app.loyalty.api", "app.loyalty.ledger"),  # inside the feature: its own business
    )
    assert _check(allowed).kept
    broken = _check(_graph(("app.referrals.x", "app.loyalty.ledger")))
    assert not broken.kept
    assert broken.metadata["illegal"] == [("app.referrals.x", "app.loyalty.ledger", [3])]
