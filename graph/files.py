"""Graph files: the versioned YAML format a graph is saved to and opened from.

A file is read with PyYAML's safe loader and checked strictly before any graph
is built, so a bad file yields one clear :class:`GraphFileError` (file,
line:column, field path, what was expected) and never a half-loaded graph.
Files of older versions pass through :data:`MIGRATIONS` first. Saving is
atomic: the old file stays intact until the new one is completely written.

Example of the format::

    format: deepwire-graph
    version: 1
    name: MLP on digits
    description: ...
    nodes:
    - {id: n1, type: Input, name: input_1, params: {shape: [64]}, position: [0, 0]}
    edges:
    - {source: n1, target: n2, port: 0}
    - {source: n5, target: n6, port: 0, source_port: 1}  # output 1 of a block (optional)
    blocks:                  # reusable subgraphs, each stored once (optional)
    - name: mlp_block        # used by nodes {type: Block, params: {block: mlp_block}}
      nodes: [...]           # its Input nodes are its ports, its output layers its outputs
      edges: [...]
    training: {optimizer: adam, ...}
    dataset: {source: builtin, name: digits, ...}
"""

from __future__ import annotations

import copy
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from graph import atomic
from graph.block_inference import MAX_NESTING, definition_problem
from graph.block_type import BLOCK
from graph.catalog import find_type
from graph.input_files import InputFileError, read_limited
from graph.messages import excerpt, printable
from graph.model import (
    MAX_PORT,
    AddBlock,
    AddEdge,
    AddNode,
    Edge,
    GraphError,
    NetworkGraph,
    Node,
)
from graph.names import name_error
from graph.params import Param, ParamError
from graph.settings import SECTIONS, coerce_section, default_section

FORMAT = "deepwire-graph"
FORMAT_VERSION = 1
"""The version this code writes and the newest it reads."""

MIGRATIONS: dict[int, Callable[[dict], dict]] = {}
"""Upgrades file data from version N (the key) to N + 1, applied before the check."""

TOP_LEVEL_KEYS = ("format", "version", "name", "description", "nodes", "edges", "blocks")
BLOCK_KEYS = ("name", "nodes", "edges")
NODE_KEYS = ("id", "type", "name", "params", "position")
EDGE_KEYS = ("source", "target", "port", "source_port")

FieldPath = tuple[str | int, ...]

# libyaml's parser is ~10x faster than the pure-Python one and keeps the same marks.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class GraphFileError(ValueError):
    """A graph file that cannot be read, with where and why.

    Attributes:
        source: The file name (or "<string>") the message starts with.
        line: 1-based line of the fault, or None when unknown.
        column: 1-based column of the fault, or None when unknown.
    """

    def __init__(
        self, source: str, message: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        where = source if line is None else f"{source}:{line}:{column}"
        super().__init__(f"{where}: {message}")


# Reading -------------------------------------------------------------------------


def load_graph(path: str | os.PathLike) -> NetworkGraph:
    """Reads a graph file.

    Args:
        path: The YAML file to read.

    Raises:
        GraphFileError: the file cannot be read or is not a valid graph file.
    """
    path = Path(path)
    source = str(path)
    try:
        data = read_limited(path, "a graph file")
    except InputFileError as error:
        raise GraphFileError(source, str(error).removeprefix(f"{source}: ")) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise GraphFileError(
            source, f"is not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start}"
        ) from None
    return graph_from_yaml(text, source=source, default_name=path.stem)


# A graph's `name:` is a top-level line near the top of the file (graph_to_yaml writes it first).
_NAME_LINE = re.compile(r"^name:[ \t]*(.+?)[ \t]*$", re.MULTILINE)


def graph_title(path: str | os.PathLike) -> str:
    """A graph file's own name ("MLP on digits"), else its file name; for menus.

    Reads only the file's first lines: menus list every example at start-up and
    must not parse whole graphs for a title.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8", errors="replace") as file:
            match = _NAME_LINE.search(file.read(2000))
    except OSError:
        match = None
    title = match.group(1).strip("'\"").strip() if match else ""
    return title or path.stem.replace("_", " ")


def graph_from_yaml(
    text: str, source: str = "<string>", default_name: str = "Untitled"
) -> NetworkGraph:
    """Builds a graph from the text of a graph file.

    Args:
        text: The YAML document.
        source: The file name error messages start with.
        default_name: The graph's name when the file gives none.

    Raises:
        GraphFileError: the text is not a valid graph file.
    """
    root = _compose(text, source)
    data = _construct(root, source)
    reader = _FileReader(root, source)
    data = reader.migrate(data)
    return reader.build(data, default_name)


def _compose(text: str, source: str) -> yaml.Node:
    """Parses `text` into YAML's node tree, which keeps line and column marks."""
    if not isinstance(text, str):
        raise GraphFileError(source, f"must be text. Received: {type(text).__name__}")
    loader = None
    try:
        loader = _Loader(text)
        root = loader.get_single_node()
    except yaml.reader.ReaderError as error:
        raise _reader_error(error, text, source) from None
    except yaml.MarkedYAMLError as error:
        raise _yaml_error(error, source) from None
    except yaml.YAMLError as error:
        raise GraphFileError(source, f"invalid YAML: {error}") from None
    except UnicodeError as error:
        raise GraphFileError(source, f"is not valid text: {error.reason}") from None
    except RecursionError:
        raise GraphFileError(source, "invalid YAML: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        raise GraphFileError(source, "is empty; expected a DeepWire graph file")
    _check_node_tree(root, source)
    return root


def _reader_error(error: yaml.reader.ReaderError, text: str, source: str) -> GraphFileError:
    """Locates a character YAML refuses (control characters, ...) by line and column."""
    message = f"invalid YAML: character #x{error.character:04x} is not allowed"
    # libyaml reports a byte offset; finding the character itself is exact.
    index = text.find(chr(error.character)) if isinstance(error.character, int) else -1
    if index < 0:
        return GraphFileError(source, message)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return GraphFileError(source, message, line, column)


def _construct(root: yaml.Node, source: str) -> Any:
    """Turns the checked node tree into Python values (dicts, lists, scalars)."""
    loader = _Loader("")
    try:
        return loader.construct_document(root)
    except yaml.MarkedYAMLError as error:
        raise _yaml_error(error, source) from None
    # PyYAML lets ValueError and OverflowError escape for values such as
    # `2020-13-45` (a timestamp) or `!!int x`.
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as error:
        mark = _failing_scalar_mark(root)
        line, column = (None, None) if mark is None else (mark.line + 1, mark.column + 1)
        raise GraphFileError(source, f"invalid YAML value: {error}", line, column) from None
    except RecursionError:
        raise GraphFileError(source, "invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()


def _failing_scalar_mark(root: yaml.Node) -> yaml.Mark | None:
    """Where the first scalar that PyYAML cannot construct starts (`2020-13-45`), if any."""
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.ScalarNode):
            loader = _Loader("")
            try:
                loader.construct_object(node)
            except Exception:  # whatever the value raised: only where it is matters here
                return node.start_mark
            finally:
                loader.dispose()
        elif isinstance(node, yaml.MappingNode):
            pending += [part for pair in reversed(node.value) for part in reversed(pair)]
        elif isinstance(node, yaml.SequenceNode):
            pending += reversed(node.value)
    return None


def _yaml_error(error: yaml.MarkedYAMLError, source: str) -> GraphFileError:
    mark = error.problem_mark or error.context_mark
    problem = error.problem or error.context or "unreadable"
    if error.context and error.problem:
        problem = f"{error.problem} ({error.context})"
    if mark is None:
        return GraphFileError(source, f"invalid YAML: {problem}")
    return GraphFileError(source, f"invalid YAML: {problem}", mark.line + 1, mark.column + 1)


def _check_node_tree(root: yaml.Node, source: str) -> None:
    """Refuses aliases and repeated mapping keys, which PyYAML would accept silently.

    Aliases are refused because graph files never need them and they let a
    small file expand into a huge or self-referencing value.
    """
    seen: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            raise GraphFileError(
                source,
                "this value is reused by an alias (*name); graph files do not support anchors "
                "and aliases: write the value out",
                node.start_mark.line + 1,
                node.start_mark.column + 1,
            )
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        raise GraphFileError(
                            source,
                            f"key {excerpt(key.value)} appears twice in the same mapping",
                            key.start_mark.line + 1,
                            key.start_mark.column + 1,
                        )
                    keys.add(key.value)
                pending += (key, value)
        elif isinstance(node, yaml.SequenceNode):
            pending += node.value


@dataclass(frozen=True)
class _CheckedFile:
    """A file's content once every field has been checked."""

    name: str
    description: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    settings: dict[str, dict[str, Any]]
    blocks: tuple[_CheckedBlock, ...] = ()


@dataclass(frozen=True)
class _CheckedBlock:
    """One block definition once checked."""

    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


class _FileReader:
    """Checks constructed file data field by field against the format.

    Errors point at the YAML node of the bad field, found by walking the
    node tree along the field's path.
    """

    def __init__(self, root: yaml.Node, source: str) -> None:
        self.root = root
        self.source = source

    def error(self, path: FieldPath, message: str, at_key: bool = False) -> GraphFileError:
        """An error located at the value of `path`, or at its key when `at_key`."""
        mark = _mark_at(self.root, path, at_key)
        if mark is None:
            return GraphFileError(self.source, message)
        return GraphFileError(self.source, message, mark.line + 1, mark.column + 1)

    # Version and migrations -----------------------------------------------------

    def migrate(self, data: Any) -> dict:
        """Checks the format header and upgrades older versions to the current one."""
        if not isinstance(data, dict):
            raise self.error(
                (), f"must be a mapping starting with 'format: {FORMAT}'. Received: {_kind(data)}"
            )
        if data.get("format") != FORMAT:
            if "format" not in data:
                raise self.error((), f"is not a DeepWire graph file: 'format: {FORMAT}' is missing")
            raise self.error(
                ("format",), f"format must be {FORMAT!r}. Received: {excerpt(data['format'])}"
            )
        version = data.get("version")
        if "version" not in data:
            raise self.error((), "version is missing; expected 'version: 1'")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise self.error(
                ("version",), f"version must be a positive integer. Received: {excerpt(version)}"
            )
        if version > FORMAT_VERSION:
            raise self.error(
                ("version",),
                f"was written by a newer DeepWire (file version {version}); "
                f"this version reads files up to version {FORMAT_VERSION}",
            )
        for step in range(version, FORMAT_VERSION):
            migration = MIGRATIONS.get(step)
            if migration is None:
                raise self.error(
                    ("version",), f"version {step} files cannot be upgraded: no migration"
                )
            try:
                data = migration(copy.deepcopy(data))
            except Exception as error:  # a migration's bug must not escape as a crash
                raise self.error(
                    (), f"cannot upgrade from version {step} to {step + 1}: {error}"
                ) from None
            if not isinstance(data, dict):
                raise self.error((), f"the migration from version {step} returned no mapping")
            data["version"] = step + 1
        return data

    # The whole file --------------------------------------------------------------

    def build(self, data: dict, default_name: str) -> NetworkGraph:
        checked = self.check(data, default_name)
        graph = NetworkGraph(checked.name, checked.description)
        for section, values in checked.settings.items():
            graph.settings[section] = values
        try:
            for block in checked.blocks:
                graph.apply(AddBlock(block.name, _graph_of(block.nodes, block.edges)))
            for node in checked.nodes:
                graph.apply(AddNode(node))
            for edge in checked.edges:
                graph.apply(AddEdge(edge))
        except GraphError as error:
            # The checks above rule this out; the message still beats a traceback.
            raise self.error((), str(error)) from None
        return graph

    def check(self, data: dict, default_name: str) -> _CheckedFile:
        known = (*TOP_LEVEL_KEYS, *SECTIONS)
        for key in data:
            if key not in known:
                raise self.error(
                    (key,) if isinstance(key, str) else (),
                    f"unknown top-level key {excerpt(key)}; expected one of {', '.join(known)}",
                    at_key=True,
                )
        if "nodes" not in data:
            raise self.error((), "nodes is missing; expected a list of layers")
        # An empty `name:` or `description:` reads as null: treat it as not given.
        name = data.get("name") if data.get("name") is not None else default_name
        description = data.get("description") if data.get("description") is not None else ""
        for key, value in (("name", name), ("description", description)):
            if not isinstance(value, str):
                raise self.error((key,), f"{key} must be a string. Received: {excerpt(value)}")
        nodes = self.check_nodes(data["nodes"])
        edges = self.check_edges(data.get("edges", []), nodes)
        blocks = self.check_blocks(data.get("blocks", []))
        self.check_block_uses(nodes, blocks)
        settings = {
            section: self.check_settings(section, data.get(section, {})) for section in SECTIONS
        }
        return _CheckedFile(name, description, tuple(nodes.values()), edges, settings, blocks)

    # Blocks ---------------------------------------------------------------------

    def check_blocks(self, entries: Any) -> tuple[_CheckedBlock, ...]:
        if entries is None:
            entries = []
        if not isinstance(entries, list):
            raise self.error(
                ("blocks",),
                f"blocks must be a list of block definitions. Received: {_kind(entries)}",
            )
        blocks: dict[str, _CheckedBlock] = {}
        for index, entry in enumerate(entries):
            where = f"blocks[{index}]"
            path: FieldPath = ("blocks", index)
            self.check_mapping(path, where, entry, BLOCK_KEYS, required=("name", "nodes"))
            name = self.check_string((*path, "name"), f"{where}.name", entry["name"], empty=False)
            error = name_error(name)
            if error is not None:
                raise self.error(
                    (*path, "name"), f"{where}.name: {error.replace('layer', 'block')}"
                )
            if name in blocks:
                raise self.error(
                    (*path, "name"), f"{where}.name {excerpt(name)} names another block too"
                )
            nodes = self.check_nodes(entry["nodes"], path)
            edges = self.check_edges(entry.get("edges", []), nodes, path)
            blocks[name] = _CheckedBlock(name, tuple(nodes.values()), edges)
        return tuple(blocks.values())

    def check_block_uses(
        self, nodes: Mapping[str, Node], blocks: tuple[_CheckedBlock, ...]
    ) -> None:
        """Refuses instances of blocks the file does not define, and blocks inside themselves."""
        names = [block.name for block in blocks]
        places: list[tuple[FieldPath, str, tuple[Node, ...]]] = [((), "", tuple(nodes.values()))]
        places += [(("blocks", i), f"blocks[{i}].", b.nodes) for i, b in enumerate(blocks)]
        for base, prefix, members in places:
            for index, node in enumerate(members):
                if node.type == BLOCK and node.params["block"] not in names:
                    raise self.error(
                        (*base, "nodes", index, "params", "block"),
                        f"{prefix}nodes[{index}] {node.label}: no block named "
                        f"{excerpt(node.params['block'])} is defined in this file "
                        f"(its blocks: {', '.join(printable(n) for n in names) or 'none'})",
                    )
        library = NetworkGraph()
        for block in blocks:
            library.apply(AddBlock(block.name, _graph_of(block.nodes, block.edges)))
        for index, block in enumerate(blocks):
            # Blocks inside themselves, or nested past the limit, cannot even be inferred.
            blocks = library.blocks
            if blocks.cycle(block.name) or len(blocks.nesting(block.name)) > MAX_NESTING:
                problem = definition_problem(blocks, block.name)
                raise self.error(("blocks", index, "name"), f"blocks[{index}]: {problem}")

    # Nodes ----------------------------------------------------------------------

    def check_nodes(self, entries: Any, base: FieldPath = ()) -> dict[str, Node]:
        """The nodes of the file (`base` empty) or of the block definition at `base`."""
        prefix = _prefix(base)
        if not isinstance(entries, list):
            raise self.error(
                (*base, "nodes"),
                f"{prefix}nodes must be a list of layers. Received: {_kind(entries)}",
            )
        nodes: dict[str, Node] = {}
        for index, entry in enumerate(entries):
            node = self.check_node(index, entry, base)
            if node.id in nodes:
                raise self.error(
                    (*base, "nodes", index, "id"),
                    f"{prefix}nodes[{index}].id {excerpt(node.id)} is already used by another "
                    "node; node ids must be unique",
                )
            nodes[node.id] = node
        return nodes

    def check_node(self, index: int, entry: Any, base: FieldPath = ()) -> Node:
        where = f"{_prefix(base)}nodes[{index}]"
        path: FieldPath = (*base, "nodes", index)
        self.check_mapping(path, where, entry, NODE_KEYS, required=("id", "type", "name"))
        node_id = self.check_string((*path, "id"), f"{where}.id", entry["id"], empty=False)
        type_name = self.check_string((*path, "type"), f"{where}.type", entry["type"])
        spec = find_type(type_name)
        if spec is None:
            raise self.error(
                (*path, "type"),
                f"{where}.type: unknown layer type {excerpt(type_name)} "
                f"(node {printable(node_id)})",
            )
        name = self.check_string((*path, "name"), f"{where}.name", entry["name"])
        raw_params = entry.get("params", {})
        if raw_params is None:
            raw_params = {}
        if not isinstance(raw_params, dict):
            raise self.error(
                (*path, "params"),
                f"{where}.params must be a mapping. Received: {_kind(raw_params)}",
            )
        params_path = (*path, "params")
        for key, value in raw_params.items():
            param = spec.param_index.get(key) if isinstance(key, str) else None
            if param is None:
                raise self.error(
                    (*params_path, key) if isinstance(key, str) else params_path,
                    f"{where}.params: {type_name} has no parameter {excerpt(key)} "
                    f"(its parameters: {', '.join(spec.param_index) or 'none'})",
                    at_key=True,
                )
            self.check_value((*params_path, key), f"{where}.params", param, value)
        try:
            params = spec.coerce_params(raw_params)
        except ParamError as error:
            raise self.error(params_path, f"{where}.params: {error}") from None
        position = self.check_position(
            (*path, "position"), f"{where}.position", entry.get("position", (0, 0))
        )
        return Node(node_id, type_name, name, params, position)

    def check_position(self, path: FieldPath, where: str, value: Any) -> tuple[float, float]:
        if not (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and all(_is_number(v) and math.isfinite(v) for v in value)
        ):
            raise self.error(path, f"{where} must be [x, y] numbers. Received: {excerpt(value)}")
        # To the precision files keep, so that loading and saving again changes nothing.
        return (_to_tenth(value[0]), _to_tenth(value[1]))

    # Edges ----------------------------------------------------------------------

    def check_edges(
        self, entries: Any, nodes: Mapping[str, Node], base: FieldPath = ()
    ) -> tuple[Edge, ...]:
        prefix = _prefix(base)
        if entries is None:
            entries = []
        if not isinstance(entries, list):
            raise self.error(
                (*base, "edges"),
                f"{prefix}edges must be a list of connections. Received: {_kind(entries)}",
            )
        edges: list[Edge] = []
        occupied: dict[tuple[str, int], int] = {}
        for index, entry in enumerate(entries):
            where = f"{prefix}edges[{index}]"
            path: FieldPath = (*base, "edges", index)
            self.check_mapping(path, where, entry, EDGE_KEYS, required=("source", "target"))
            ends = []
            for end in ("source", "target"):
                node_id = self.check_string((*path, end), f"{where}.{end}", entry[end])
                if node_id not in nodes:
                    raise self.error(
                        (*path, end), f"{where}.{end}: no node has the id {excerpt(node_id)}"
                    )
                ends.append(node_id)
            port, out = entry.get("port", 0), entry.get("source_port", 0)
            for key, value in (("port", port), ("source_port", out)):
                if not _is_int(value) or not 0 <= value <= MAX_PORT:
                    raise self.error(
                        (*path, key),
                        f"{where}.{key} must be an integer from 0 to {MAX_PORT}. "
                        f"Received: {excerpt(value)}",
                    )
            source, target = ends
            if (target, port) in occupied:
                label = nodes[target].label
                raise self.error(
                    path,
                    f"{where}: input {port} of {label} is already connected by "
                    f"{prefix}edges[{occupied[target, port]}]; a port takes one edge",
                )
            occupied[target, port] = index
            edges.append(Edge(source, target, port, out))
        return tuple(edges)

    # Settings -------------------------------------------------------------------

    def check_settings(self, section: str, values: Any) -> dict[str, Any]:
        params = SECTIONS[section].params
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise self.error((section,), f"{section} must be a mapping. Received: {_kind(values)}")
        index = {p.name: p for p in params}
        for key, value in values.items():
            param = index.get(key) if isinstance(key, str) else None
            if param is None:
                raise self.error(
                    (section, key) if isinstance(key, str) else (section,),
                    f"{section} has no setting {excerpt(key)} (its settings: {', '.join(index)})",
                    at_key=True,
                )
            self.check_value((section, key), section, param, value)
        try:
            return coerce_section(params, values, section)
        except ParamError as error:
            raise self.error((section,), str(error)) from None

    # Shared checks ----------------------------------------------------------------

    def check_mapping(
        self,
        path: FieldPath,
        where: str,
        entry: Any,
        allowed: tuple[str, ...],
        required: tuple[str, ...],
    ) -> None:
        if not isinstance(entry, dict):
            raise self.error(
                path,
                f"{where} must be a mapping with {', '.join(allowed)}. Received: {_kind(entry)}",
            )
        for key in entry:
            if key not in allowed:
                raise self.error(
                    (*path, key) if isinstance(key, str) else path,
                    f"{where} has an unknown key {excerpt(key)}; expected {', '.join(allowed)}",
                    at_key=True,
                )
        for key in required:
            if key not in entry:
                raise self.error(path, f"{where}.{key} is missing")

    def check_string(self, path: FieldPath, where: str, value: Any, empty: bool = True) -> str:
        if not isinstance(value, str):
            raise self.error(path, f"{where} must be a string. Received: {excerpt(value)}")
        if not empty and not value.strip():
            raise self.error(path, f"{where} must not be empty")
        return value

    def check_value(self, path: FieldPath, where: str, param: Param, value: Any) -> None:
        try:
            param.coerce(value)
        except ParamError as error:
            message = str(error)
            # Param messages start with the parameter's name: join them into a
            # field path, `nodes[2].params.units must be an integer`.
            if message.startswith(param.name):
                raise self.error(path, f"{where}.{message}") from None
            raise self.error(path, f"{where}.{param.name}: {message}") from None


def _prefix(base: FieldPath) -> str:
    """How messages name the place of a node list: "" for the file's, "blocks[0]." for a block's."""
    return "".join(f"{step}[{index}]." for step, index in zip(base[::2], base[1::2], strict=True))


def _graph_of(nodes: tuple[Node, ...], edges: tuple[Edge, ...]) -> NetworkGraph:
    """A block definition's graph from its checked nodes and edges."""
    graph = NetworkGraph()
    for node in nodes:
        graph.apply(AddNode(node.copy()))
    for edge in edges:
        graph.apply(AddEdge(edge))
    return graph


def _mark_at(root: yaml.Node, path: FieldPath, at_key: bool = False) -> yaml.Mark | None:
    """The start of the deepest YAML node along `path` (keys and list indices).

    With `at_key`, the last step's key rather than its value.
    """
    node = root
    for depth, step in enumerate(path, 1):
        child = None
        if isinstance(node, yaml.MappingNode):
            pair = next(
                (
                    (key, value)
                    for key, value in node.value
                    if isinstance(key, yaml.ScalarNode) and key.value == str(step)
                ),
                None,
            )
            if pair is not None:
                child = pair[0] if at_key and depth == len(path) else pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if 0 <= step < len(node.value):
                child = node.value[step]
        if child is None:
            break
        node = child
    return node.start_mark


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    """A value's YAML kind for messages: a list, a mapping, or the value itself."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return excerpt(value)


# Writing -------------------------------------------------------------------------


class _Flow(list):
    """A list written on one line: `[64, 64]`."""


class _FlowMap(dict):
    """A mapping written on one line: `{units: 64, activation: relu}`."""


class _Loader(_BaseLoader):
    """Reads `1e-3` as a number, as YAML 1.2 and Python do (YAML 1.1 wants `1.0e-3`)."""


class _Dumper(_BaseDumper):
    """Writes lists of scalars and small mappings inline, everything else in blocks."""


# Both sides know it: the writer then quotes a name such as "1e5", which would read as a number.
_EXPONENT_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
for _side in (_Loader, _Dumper):
    _side.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+0123456789"))


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True)
)
_Dumper.add_representer(
    _FlowMap, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)
_Dumper.add_representer(
    str,
    lambda dumper, data: dumper.represent_scalar(
        "tag:yaml.org,2002:str", data, style="|" if "\n" in data else None
    ),
)
_Dumper.add_representer(
    tuple, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True)
)


def graph_to_yaml(graph: NetworkGraph) -> str:
    """The text of `graph`'s file: stable key order, defaults left out of node params.

    Node params equal to the catalog's defaults are left out so a file shows
    what its author chose, except the key params shown on the node's face
    (an Input's shape, a Dense's units...); the training and dataset settings
    are written in full so a file reproduces a run exactly.
    """
    data = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "name": graph.name,
        "description": graph.description,
        "nodes": [_node_data(node) for node in graph.nodes],
        "edges": _edges_data(graph),
    }
    if len(graph.blocks):
        data["blocks"] = [
            {
                "name": name,
                "nodes": [_node_data(n) for n in block.nodes],
                "edges": _edges_data(block),
            }
            for name, block in graph.blocks.items()
        ]
    for name, section in SECTIONS.items():
        values = graph.settings[name]
        if section.always_saved or values != default_section(section.params):
            data[name] = {key: _plain(value) for key, value in values.items()}
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2)


def _edges_data(graph: NetworkGraph) -> list[_FlowMap]:
    return [
        _FlowMap(source=e.source, target=e.target, port=e.port, source_port=e.source_port)
        if e.source_port
        else _FlowMap(source=e.source, target=e.target, port=e.port)
        for e in sorted(graph.edges, key=_edge_order(graph))
    ]


def _node_data(node: Node) -> _FlowMap:
    spec = find_type(node.type)
    defaults = spec.default_params() if spec else {}
    shown = spec.key_params if spec else ()
    params = {
        key: _plain(value)
        for key, value in node.params.items()
        if key in shown or key not in defaults or _plain(value) != _plain(defaults[key])
    }
    return _FlowMap(
        id=node.id,
        type=node.type,
        name=node.name,
        params=_FlowMap(params),
        position=_Flow(_round(v) for v in node.position),
    )


def _edge_order(graph: NetworkGraph) -> Callable[[Edge], tuple[int, int, int]]:
    """Edges in the order of their nodes, so files diff well after edits."""
    order = {node_id: index for index, node_id in enumerate(graph.nx_graph.nodes)}
    return lambda e: (order[e.target], e.port, order[e.source])


def _plain(value: Any) -> Any:
    """Copies a value into YAML-friendly types: tuples become flow lists."""
    if isinstance(value, (tuple, list)):
        return _Flow(_plain(v) for v in value)
    if isinstance(value, dict):
        return _FlowMap((k, _plain(v)) for k, v in value.items())
    return value


def _to_tenth(coordinate: float) -> float:
    """A canvas coordinate to a tenth of a pixel, the precision files keep."""
    return round(float(coordinate), 1)


def _round(coordinate: float) -> int | float:
    """Canvas coordinates to a tenth of a pixel; whole numbers without `.0`."""
    rounded = _to_tenth(coordinate)
    return int(rounded) if rounded.is_integer() else rounded


def save_graph(graph: NetworkGraph, path: str | os.PathLike) -> None:
    """Writes `graph` to `path` atomically.

    A crash, a kill or a full disk leaves the old file intact (graph.atomic).

    Raises:
        OSError: the file cannot be written; `path` is then unchanged.
    """
    atomic.write_text(path, graph_to_yaml(graph))
