"""Every extension point, in one place. Each is a registry; the built-ins register in it
exactly as an outside package would, by name, and a package adds its own through the entry
point group named beside it (in its pyproject.toml: `[project.entry-points."GROUP"]`).

| registry | entry point group | what a plug-in provides |
|---|---|---|
| `connectors` | `valuestory.connectors` | a `Connector`: reads one kind of source file into records |
| `embedders` | `valuestory.embeddings` | an `Embedder` class: texts to unit vectors |
| `providers` | `valuestory.models` | a function `spec -> ChatModel` for `--llm NAME:SPEC` |
| `stages` | `valuestory.stages` | a `Stage`: one step of the method, offline and optionally on a model |
"""

from valuestory.connectors import connectors
from valuestory.llm.models import providers
from valuestory.pipeline.contract import stages
from valuestory.stores.embeddings import embedders

__all__ = ["connectors", "embedders", "providers", "stages"]
