"""A custom import-linter contract (loaded by .importlinter's `contract_types`): features are used only through
their public modules.

For each listed feature package, a module outside it may import the package itself (its `__init__`: init_app
and, for messaging, the outbox calls) or its `api` module, nothing else: the rest is the feature's own business
and can change without touching another package. TYPE_CHECKING imports are left out of the graph
(exclude_type_checking_imports).
https://import-linter.readthedocs.io/en/stable/custom_contract_types.html
"""

from __future__ import annotations

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class PublicApiContract(Contract):
    type_name = "public_api"

    features = fields.ListField(subfield=fields.StringField())
    public = fields.ListField(subfield=fields.StringField())  # module names below a feature, e.g. "api"

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        illegal: list[tuple[str, str, list[int]]] = []
        for feature in self.features:
            allowed = {feature, *(f"{feature}.{name}" for name in self.public)}
            for imported in sorted(graph.find_descendants(feature)):
                if imported in allowed:
                    continue
                for importer in sorted(graph.find_modules_that_directly_import(imported)):
                    if importer == feature or importer.startswith(feature + "."):
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    illegal.append((importer, imported, [d["line_number"] for d in details]))
        return ContractCheck(kept=not illegal, metadata={"illegal": illegal})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, imported, lines in check.metadata["illegal"]:
            where = ", ".join(map(str, lines))
            output.print_error(f"{importer} -> {imported} (l.{where}): import the feature's api module instead")
            output.new_line()
