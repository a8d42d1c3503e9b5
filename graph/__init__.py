"""The layer as a dataflow graph, and the rewrites on it.

``LayerGraph`` (a networkx multigraph of tensor and op nodes with slot-ordered edges), its build from a
source model, the op catalogue as data (``op_catalogue.toml``), validation, and the quant / sparse passes
that return a new graph plus a change log. Passes decide semantics and never touch text. This package may
import ``llm_transform.source`` and nothing else of the project.
"""
