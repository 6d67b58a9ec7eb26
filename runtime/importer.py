"""Saved Keras models (`.keras`, `.h5`, JSON configs) -> graphs, laid out automatically.

The model's structure is read from its functional config (layers and the
tensors between them); each layer becomes a node through
`runtime.layer_factory.params_from_config`, which refuses anything the
catalog cannot represent exactly. Nested models (a model used as a layer)
are flattened into the graph. Node names are the Keras layer names, so the
model's weights can be copied into the rebuilt model by name
(`transfer_weights`).

Files are loaded with `safe_mode=True`, and before that their config is
checked for layer classes the catalog lacks (Lambda, custom classes), so such
a file is refused with a message naming the layer rather than deserialized.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from graph.block_type import BLOCK
from graph.catalog import CATALOG, REFUSED, type_for_class
from graph.input_files import InputFileError, check_model_file, read_limited
from graph.layout import layered_layout
from graph.messages import bounded_lines, excerpt, first_line, printable
from graph.model import AddBlock, AddEdge, AddNode, Edge, MoveNodes, NetworkGraph, Node
from graph.names import name_error
from graph.validation import ERROR, validate
from graph.wiring import POSITIONAL, call_style
from runtime.import_masks import (
    MASK_KEYWORD,
    OPS_MODULES,
    TensorKey,
    entry_name,
    is_operation,
    recorded_masks,
    tensor_keys,
)
from runtime.layer_factory import UnsupportedLayerError, params_from_config

MODEL_CLASSES = frozenset({"Functional", "Sequential", "Model"})
INPUT_CLASS = "InputLayer"
SUFFIXES = (".keras", ".h5", ".hdf5", ".json")
# Keyword arguments through which a layer may receive its input tensors.
TENSOR_KEYWORDS = ("query", "value", "key")

NESTED_TOO_DEEPLY = (
    "the model config is nested too deeply to read (a config of a few hundred levels at most "
    "is a real model; this one is not)"
)

# A tensor in the draft: (node id, output port of that node).
Ref = tuple[str, int]


class ImportModelError(ValueError):
    """A model file or model that cannot become a graph; the message says why."""


def import_model(source: str | Path | keras.Model, blocks: bool = False) -> NetworkGraph:
    """Turns a saved Keras model (or a model object) into a laid-out graph.

    Args:
        source: A `.keras` or `.h5` file, a `.json` model config, or a
            `keras.Model`.
        blocks: Turn nested models into blocks (see `graph_from_model`).

    Raises:
        ImportModelError: naming the file, layer, class and what is unsupported.
    """
    where = printable(source.name) if isinstance(source, keras.Model) else source
    try:
        if isinstance(source, keras.Model):
            return graph_from_model(source, blocks)
        return graph_from_model(load_keras_model(source), blocks)
    except ImportModelError:
        raise
    except RecursionError:
        raise ImportModelError(f"{where}: {NESTED_TOO_DEEPLY}") from None
    # A config is untrusted data: a field of the wrong type or shape anywhere
    # surfaces as one of these while it is read.
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as error:
        raise ImportModelError(
            f"{where}: the model config is not laid out as Keras writes it "
            f"({type(error).__name__}: {first_line(error, 120)})"
        ) from None


def load_keras_model(path: str | Path) -> keras.Model:
    """Loads a model file safely (no code is ever deserialized).

    Raises:
        ImportModelError: for a missing or unreadable file, an unknown
            suffix, or a layer class the catalog lacks.
    """
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ImportModelError(
            f"{path}: expected a .keras, .h5 or .json model file. Received: {excerpt(path.suffix)}"
        )
    if not path.exists():
        raise ImportModelError(f"{path}: file not found")
    try:
        if path.suffix.lower() != ".json":
            check_model_file(path)
        config = _read_config(path)
    except InputFileError as error:
        raise ImportModelError(str(error)) from None
    try:
        check_config(config)
    except ImportModelError as error:
        raise ImportModelError(f"{path}: {error}") from None
    try:
        if path.suffix.lower() == ".json":
            return keras.models.model_from_json(json.dumps(config))
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a bad file; none may escape.
        raise ImportModelError(f"{path}: cannot be loaded: {first_line(error)}") from None


def _read_config(path: Path) -> dict:
    """The model config stored in a file, without deserializing anything."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                text = archive.read("config.json").decode("utf-8")
        elif suffix == ".json":
            text = read_limited(path, "a model config (.json)").decode("utf-8")
        else:
            import h5py

            with h5py.File(path, "r") as file:
                text = file.attrs.get("model_config")
                if text is None:
                    raise ImportModelError(f"{path}: holds weights only, no model config")
                text = text.decode("utf-8") if isinstance(text, bytes) else str(text)
        config = json.loads(text)
    except (ImportModelError, InputFileError):
        raise
    except RecursionError:
        raise ImportModelError(f"{path}: {NESTED_TOO_DEEPLY}") from None
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError, ValueError) as error:
        raise ImportModelError(f"{path}: not a readable Keras model file ({error})") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ImportModelError(f"{path}: not a Keras model config (no class_name)")
    return config


def check_config(config: Mapping[str, Any]) -> None:
    """Raises ImportModelError for the first layer class the catalog lacks.

    Walks nested models too. Lambda layers carry Python code, which DeepWire
    never loads.
    """
    for entry in _layer_entries(config):
        class_name = entry.get("class_name", "?")
        name = (entry.get("config") or {}).get("name") or entry.get("name") or "?"
        module = str(entry.get("module") or "keras")
        if class_name in MODEL_CLASSES or class_name == INPUT_CLASS:
            continue
        if class_name == "Lambda":
            raise ImportModelError(
                f"{_named(name, 'Lambda')}: Lambda layers hold Python code, "
                "which DeepWire never loads; "
                "replace it with built-in layers"
            )
        if class_name in REFUSED:
            raise ImportModelError(
                f"{_named(name, class_name)}: not supported: {REFUSED[class_name]}"
            )
        if module.startswith(OPS_MODULES):
            raise ImportModelError(
                f"{_named(name, class_name)}: a keras.ops operation ({printable(module)}) "
                "applied to a tensor in the model, not a layer; a graph holds layers only "
                "(x + c or x * c can be a Rescaling layer)"
            )
        standard = module in ("keras", "keras.layers") or module.startswith("keras.src.layers")
        if not standard or type_for_class(class_name) not in CATALOG:
            raise ImportModelError(
                f"{_named(name, class_name)}: layer type {printable(class_name)} "
                "is not in the catalog"
                + ("" if standard else f" (custom class from {printable(module)})")
            )


def _layer_entries(config: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every layer entry of the model config and its nested models, but the mask
    operations Keras records (runtime.import_masks), which a graph leaves out."""
    inner = config.get("config") if isinstance(config.get("config"), Mapping) else {}
    masks = _masks(inner) if isinstance(inner, Mapping) else set()
    for entry in inner.get("layers", ()) if isinstance(inner, Mapping) else ():
        if not isinstance(entry, Mapping) or _is_mask(entry, masks):
            continue
        yield entry
        if entry.get("class_name") in MODEL_CLASSES:
            yield from _layer_entries(entry)


def _is_mask(entry: Any, masks: set[str]) -> bool:
    return isinstance(entry, Mapping) and is_operation(entry) and entry_name(entry) in masks


def _masks(config: Mapping[str, Any]) -> set[str]:
    """The recorded mask operations of one functional model config (none if malformed:
    the checks that follow name what is wrong with it)."""
    try:
        outputs = _history_list(config.get("output_layers", ()))
        return recorded_masks(list(config.get("layers", ())), outputs)
    except (KeyError, TypeError, ValueError):
        return set()


def _named(name: object, class_name: object) -> str:
    """How messages name a layer of the file: `dense_1 (Dense)`, escaped and bounded."""
    return f"{printable(name)} ({printable(class_name)})"


# From a model config to a graph --------------------------------------------------


@dataclass
class _Draft:
    """Nodes and edges collected before the graph is assembled in model order."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    count: int = 0
    # With `as_blocks`, nested models become block definitions, shared by every draft.
    as_blocks: bool = False
    definitions: dict[str, NetworkGraph] = field(default_factory=dict)
    # Layer configs already read (runtime.layer_factory.params_from_config), shared too.
    known: dict[str, tuple] = field(default_factory=dict)

    def add(self, type_name: str, name: str, params: dict, sources: list[Ref]) -> str:
        if name in self.names:
            raise ImportModelError(
                f"{printable(name)}: two layers share this name (a nested model reuses a name of "
                "the outer model); rename one of them"
            )
        self.count += 1
        node = Node(f"n{self.count}", type_name, name, params)
        self.nodes.append(node)
        self.names.add(name)
        self.edges += [
            Edge(source, node.id, port, out) for port, (source, out) in enumerate(sources)
        ]
        return node.id


def graph_from_model(model: keras.Model, blocks: bool = False) -> NetworkGraph:
    """The graph of a Keras model (functional or Sequential).

    Args:
        model: The model.
        blocks: Turn nested models into blocks (one output per model output), models of the
            same structure sharing one definition; else (the default) their
            layers are inlined, named as in Keras.

    Raises:
        ImportModelError: for layers, wiring or parameters the catalog cannot represent.
    """
    kind = "Sequential" if isinstance(model, keras.Sequential) else "Functional"
    try:
        model_config = model.get_config()
    except NotImplementedError:
        model_config = {}
    if "layers" not in (model_config or {}):
        raise ImportModelError(
            f"{_named(model.name, type(model).__name__)}: a subclassed model has no layer "
            "graph to import; save a functional or Sequential model"
        )
    config = {"class_name": kind, "config": model_config}
    check_config(config)
    draft = _Draft(as_blocks=blocks)
    try:
        inputs, outputs = _convert(config, draft, feeds=None)
    except UnsupportedLayerError as error:
        raise ImportModelError(str(error)) from None
    graph = _assemble(draft, inputs, _output_ids(draft, outputs, model.name), model.name)
    for name, definition in draft.definitions.items():
        definition.apply(MoveNodes(layered_layout(definition)))
        graph.apply(AddBlock(name, definition))
    problems = [p for p in validate(graph) if p.severity == ERROR]
    if problems:
        raise ImportModelError(
            f"{printable(model.name)}: the imported graph does not validate:\n"
            + "\n".join(bounded_lines(f"  - {p.message}" for p in problems))
        )
    graph.apply(MoveNodes(layered_layout(graph)))
    return graph


def _output_ids(draft: _Draft, outputs: list[Ref], name: str) -> list[str]:
    """The nodes giving a model's outputs: a graph's outputs are whole layers."""
    for node_id, port in outputs:
        if port:
            node = next(n for n in draft.nodes if n.id == node_id)
            raise ImportModelError(
                f"{printable(name)}: output {port} of {node.label} is a model output; a block "
                "with several outputs must feed layers (import without blocks to inline it)"
            )
    return [node_id for node_id, _ in outputs]


def _convert(
    config: Mapping[str, Any], draft: _Draft, feeds: list[Ref] | None
) -> tuple[list[str], list[Ref]]:
    """Adds a (possibly nested) model's layers; returns its input node ids and output tensors.

    Args:
        config: `{"class_name": ..., "config": ...}` of a Functional or Sequential model.
        draft: Where nodes go.
        feeds: For a nested model, the outer node ids feeding its inputs.
    """
    if config["class_name"] == "Sequential":
        return _convert_sequential(config["config"], draft, feeds)
    return _convert_functional(config["config"], draft, feeds)


def _convert_sequential(
    config: Mapping[str, Any], draft: _Draft, feeds: list[Ref] | None
) -> tuple[list[str], list[Ref]]:
    layers = list(config.get("layers", ()))
    if layers and layers[0].get("class_name") == INPUT_CLASS:
        first = layers.pop(0)
        input_config = first["config"]
    else:
        shape = config.get("build_input_shape")
        if shape is None:
            raise ImportModelError(
                f"{_named(config.get('name', 'sequential'), 'Sequential')}: the model was "
                "never built, "
                "so its input shape is unknown; build it or give it an Input"
            )
        input_config = {"batch_shape": list(shape), "dtype": "float32", "name": "input_layer"}
    if feeds is None:
        _, params = params_from_config(INPUT_CLASS, input_config)
        current = (draft.add("Input", input_config.get("name", "input_layer"), params, []), 0)
        inputs = [current[0]]
    else:
        current, inputs = _single_feed(config, feeds), []
    for entry in layers:
        block = _nested_block(entry, draft)
        if block is not None:
            current = (draft.add(BLOCK, _entry_name(entry), {"block": block}, [current]), 0)
        elif entry.get("class_name") in MODEL_CLASSES:
            _, outputs = _convert(entry, draft, [current])
            current = _single_feed(entry.get("config", {}), outputs)
        else:
            current = (_add_layer(entry, draft, [current]), 0)
    return inputs, [current]


def _single_feed(config: Mapping[str, Any], ids: list[Ref]) -> Ref:
    if len(ids) != 1:
        raise ImportModelError(
            f"{printable(config.get('name', 'model'))} (Sequential): expects one input tensor. "
            f"Received: {len(ids)}"
        )
    return ids[0]


def _convert_functional(
    config: Mapping[str, Any], draft: _Draft, feeds: list[Ref] | None
) -> tuple[list[str], list[Ref]]:
    model_name = config.get("name", "model")
    tensors: dict[TensorKey, Ref] = {}
    input_keys = _history_list(config.get("input_layers", ()))
    if feeds is not None and len(feeds) != len(input_keys):
        raise ImportModelError(
            f"{printable(model_name)} (nested model): takes {len(input_keys)} inputs. "
            f"Received: {len(feeds)}"
        )
    masks = _masks(config)
    pending = [e for e in config.get("layers", ()) if not _is_mask(e, masks)]
    while pending:
        progress = []
        for entry in pending:
            if _convert_entry(entry, draft, tensors, input_keys, feeds, masks):
                progress.append(entry)
        if not progress:
            names = ", ".join(str(e.get("name")) for e in pending)
            raise ImportModelError(
                f"{printable(model_name)}: layers {printable(names)} have inputs that never appear"
            )
        done = {id(entry) for entry in progress}
        pending = [entry for entry in pending if id(entry) not in done]
    outputs = []
    for key in _history_list(config.get("output_layers", ())):
        if key not in tensors:
            raise ImportModelError(
                f"{printable(model_name)}: output {printable(key[0])} is not produced by any layer"
            )
        outputs.append(tensors[key])
    if feeds is not None:
        return [], outputs
    missing = [key[0] for key in input_keys if key not in tensors]
    if missing:
        raise ImportModelError(
            f"{printable(model_name)}: input {printable(missing[0])} is not an InputLayer"
        )
    return [tensors[key][0] for key in input_keys], outputs


def _convert_entry(
    entry: Mapping[str, Any],
    draft: _Draft,
    tensors: dict[TensorKey, Ref],
    input_keys: list[TensorKey],
    feeds: list[Ref] | None,
    masks: set[str],
) -> bool:
    """Adds one layer entry once its inputs exist; False when they do not exist yet.

    `masks`: the model's recorded mask operations, which a layer may take as mask=.
    """
    class_name = entry.get("class_name")
    name = entry.get("name") or entry.get("config", {}).get("name")
    if class_name == INPUT_CLASS:
        key = (name, 0, 0)
        if feeds is not None:
            tensors[key] = feeds[input_keys.index(key)] if key in input_keys else feeds[0]
            return True
        _, params = params_from_config(INPUT_CLASS, entry["config"])
        tensors[key] = (draft.add("Input", name, params, []), 0)
        return True
    calls = entry.get("inbound_nodes") or []
    if len(calls) > 1:
        raise ImportModelError(
            f"{_named(name, class_name)}: the layer is called {len(calls)} times (shared weights); "
            "a graph node is called once"
        )
    if not calls:
        return True
    sources = _call_inputs(calls[0], name, class_name, masks)
    for layer, call_index, output_index in sources:
        if (layer, call_index, output_index) not in tensors and (layer, call_index, 0) in tensors:
            raise ImportModelError(
                f"{_named(name, class_name)}: uses output {output_index} of {printable(layer)}; "
                "layers with several outputs are not supported"
            )
    if any(key not in tensors for key in sources):
        return False
    source_ids = [tensors[key] for key in sources]
    block = _nested_block(entry, draft)
    if block is not None:
        node_id = draft.add(BLOCK, name, {"block": block}, source_ids)
        exits = len(draft.definitions[block].output_nodes())
        for index in range(exits):
            tensors[(name, 0, index)] = (node_id, index)
    elif class_name in MODEL_CLASSES:
        _, outputs = _convert(entry, draft, source_ids)
        for index, ref in enumerate(outputs):
            tensors[(name, 0, index)] = ref
    else:
        tensors[(name, 0, 0)] = (_add_layer(entry, draft, source_ids), 0)
    return True


def _entry_name(entry: Mapping[str, Any]) -> str:
    return (entry.get("config") or {}).get("name") or entry.get("name") or "block"


def _nested_block(entry: Mapping[str, Any], draft: _Draft) -> str | None:
    """The block a nested model becomes (with `as_blocks`), or None to inline it.

    A model of the same structure as one already converted (same layer types,
    params and wiring; names aside) reuses its definition; each of its outputs
    is an output of the block. Models that cannot stand alone (no input shape),
    or whose output is a block with several outputs, are inlined.
    """
    if not draft.as_blocks or entry.get("class_name") not in MODEL_CLASSES:
        return None
    inner = _Draft(as_blocks=True, definitions=draft.definitions, known=draft.known)
    name = _entry_name(entry)
    try:
        inputs, outputs = _convert(entry, inner, feeds=None)
        if any(port for _, port in outputs) or name_error(name) is not None:
            return None
        definition = _assemble(inner, inputs, [node_id for node_id, _ in outputs], name)
    except ImportModelError:
        return None
    structure = _structure(definition)
    for known, other in draft.definitions.items():
        if _structure(other) == structure:
            return known
    if name in draft.definitions:
        return None
    draft.definitions[name] = definition
    return name


def _structure(graph: NetworkGraph) -> tuple:
    """What a definition computes, names aside: types, params and wiring, in graph order."""
    index = {node.id: position for position, node in enumerate(graph.nodes)}
    nodes = tuple((node.type, repr(sorted(node.params.items()))) for node in graph.nodes)
    edges = tuple(
        sorted((index[e.source], index[e.target], e.port, e.source_port) for e in graph.edges)
    )
    return nodes, edges


def _add_layer(entry: Mapping[str, Any], draft: _Draft, sources: list[str]) -> str:
    class_name = entry.get("class_name", "?")
    layer_config = entry.get("config", {})
    name = layer_config.get("name") or entry.get("name")
    type_name, params = params_from_config(class_name, layer_config, draft.known)
    return draft.add(type_name, name, params, sources)


def _call_inputs(
    call: Any, name: str, class_name: str, masks: frozenset[str] | set[str] = frozenset()
) -> list[TensorKey]:
    """The tensors a layer call consumes, in port order (a mask of `masks` is made again
    by the rebuilt model, so it is no input)."""
    if not isinstance(call, Mapping):
        raise ImportModelError(
            f"{_named(name, class_name)}: unrecognised call record {excerpt(call)}"
        )
    keys = list(tensor_keys(call.get("args", ())))
    kwargs = call.get("kwargs") or {}
    for keyword, value in kwargs.items():
        if keyword in TENSOR_KEYWORDS and call_style(type_for_class(class_name)) == POSITIONAL:
            continue
        if keyword == MASK_KEYWORD and all(key[0] in masks for key in tensor_keys(value)):
            continue
        if any(True for _ in tensor_keys(value)):
            raise ImportModelError(
                f"{_named(name, class_name)}: receives a tensor as {keyword}=, which a graph "
                "cannot express"
            )
    # query=, value=, key= given by keyword take the ports after the positional ones.
    for keyword in TENSOR_KEYWORDS[len(keys) :]:
        keys += list(tensor_keys(kwargs.get(keyword)))
    for layer, call_index, _ in keys:
        if call_index != 0:
            raise ImportModelError(
                f"{_named(name, class_name)}: uses call {call_index} of {printable(layer)} "
                "(a shared layer); "
                "a graph node is called once"
            )
    return keys


def _history_list(value: Any) -> list[TensorKey]:
    """`input_layers`/`output_layers`: one [name, i, j] or a list of them."""
    if isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str):
        return [(value[0], value[1], value[2])]
    return [key for item in value for key in _history_list(item)]


def _assemble(draft: _Draft, inputs: list[str], outputs: list[str], name: str) -> NetworkGraph:
    """The graph, with inputs first and outputs last so graph order is model order."""
    consumed = {edge.source for edge in draft.edges}
    for node_id in outputs:
        if node_id in consumed:
            node = next(n for n in draft.nodes if n.id == node_id)
            raise ImportModelError(
                f"{node.label}: is a model output and also feeds other layers; "
                "a graph's outputs are the layers nothing consumes"
            )
    dangling = [n for n in draft.nodes if n.id not in consumed and n.id not in outputs]
    dangling = [n for n in dangling if n.type != "Input"]
    if dangling:
        raise ImportModelError(f"{dangling[0].label}: is computed but is not a model output")
    if len(set(outputs)) != len(outputs):
        raise ImportModelError(f"{printable(name)}: the same layer is listed twice as an output")
    by_id = {node.id: node for node in draft.nodes}
    middle = [n for n in draft.nodes if n.id not in inputs and n.id not in outputs]
    ordered = [by_id[i] for i in inputs] + middle + [by_id[i] for i in outputs]
    graph = NetworkGraph(name)
    for node in ordered:
        graph.apply(AddNode(node))
    for edge in draft.edges:
        graph.apply(AddEdge(edge))
    return graph


# Weights ------------------------------------------------------------------------


def layer_weights(model: keras.Model) -> dict[str, list]:
    """Every layer's weights by layer name, nested models' layers included."""
    weights = {}
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            weights.update(layer_weights(layer))
        elif layer.weights:
            weights[layer.name] = layer.get_weights()
    return weights


def transfer_weights(
    source: keras.Model, target: keras.Model, names: Mapping[str, str] | None = None
) -> None:
    """Copies weights from `source` into the layers of `target` with the same names.

    Args:
        source: The model whose weights are copied.
        target: The model that receives them.
        names: Target layer name -> source layer name where they differ (a
            folded graph built flat: `graph.block_folding.Folded.layer_names`).

    Raises:
        ImportModelError: when a target layer with weights has no counterpart.
    """
    weights = layer_weights(source)
    names = names or {}
    for layer in target.layers:
        if not layer.weights:
            continue
        name = names.get(layer.name, layer.name)
        if name not in weights:
            raise ImportModelError(f"{printable(name)}: no layer of that name in the source model")
        layer.set_weights(weights[name])
