"""YAML + environment + secret files → `Settings`, validated once at start-up.

The YAML is composed into nodes (not plain dicts) so every error can name `file:line:column`.
Conversion follows the dataclass type hints in `settings.py`, so a new setting needs no loader
change. Secrets are never read from YAML: `cordial.api_key_env`/`api_key_file` (and the Segment
equivalents) name where they live.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import yaml

from processor.config.classic import apply_classic_file
from processor.config.secrets import Secret
from processor.config.settings import Settings
from processor.errors import ConfigError

T = TypeVar("T")

_SECRET_FIELDS = {"api_key", "write_key"}


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Load settings from `path` (None = all defaults) and resolve secrets from `environ`."""
    env = os.environ if environ is None else environ
    if path is None:
        settings = Settings()
    else:
        source = Path(path)
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file: {exc.strerror}", where=str(source)) from exc
        settings = load_settings_text(text, source=str(source), resolve_secrets=False)
        settings = _merge_classic_file(settings, base_dir=source.parent)
    return _link(_resolve_secrets(settings, env))


def load_settings_text(text: str, *, source: str = "<config>", resolve_secrets: bool = False) -> Settings:
    """Parse YAML text into `Settings` (secrets resolved from os.environ only if asked)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise ConfigError(f"invalid YAML: {exc.problem}", where=where) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", where=source) from exc
    if node is None:
        settings = Settings()
    else:
        settings = convert_node(node, Settings, source=source, path="")
        _check_triggers(node, source)
    return _link(_resolve_secrets(settings, os.environ)) if resolve_secrets else settings


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.value == key
                and isinstance(value_node, yaml.Node)
            ):
                return value_node
    return None


def _check_triggers(root: yaml.Node, source: str) -> None:
    """Parse every `inbound.actions.<name>.trigger` now, so a malformed one names its place in the
    file as well as the line and column inside the trigger (the translator parses them again)."""
    from processor.errors import TriggerSyntaxError
    from processor.inbound.triggers import parse_trigger

    inbound = _child(root, "inbound")
    actions = _child(inbound, "actions") if inbound is not None else None
    if not isinstance(actions, yaml.MappingNode):
        return
    for name_node, action_node in actions.value:
        trigger = _child(action_node, "trigger")
        if not isinstance(trigger, yaml.ScalarNode) or trigger.tag == "tag:yaml.org,2002:null":
            continue
        path = f"inbound.actions.{name_node.value}.trigger"
        try:
            parse_trigger(trigger.value, where=path)
        except TriggerSyntaxError as exc:
            raise ConfigError(str(exc), where=where(trigger, source)) from exc


def _merge_classic_file(settings: Settings, *, base_dir: Path) -> Settings:
    """`inbound.classic_file` (relative to the config file): merge the Cordial integration JSON."""
    if not settings.inbound.classic_file:
        return settings
    inbound = apply_classic_file(settings.inbound, base_dir=base_dir)
    return dataclasses.replace(settings, inbound=inbound)


def where(node: yaml.Node, source: str) -> str:
    """`file:line:column` (1-based) of a YAML node."""
    mark = node.start_mark
    return f"{source}:{mark.line + 1}:{mark.column + 1}"


def convert_node(node: yaml.Node, target: Any, *, source: str, path: str) -> Any:
    """Convert a YAML node to `target` (a type hint), raising ConfigError with its position."""
    origin = get_origin(target)
    if target is object or target is Any:
        return _plain(node, source)
    if origin in (typing.Union, types.UnionType):
        options = get_args(target)
        if (
            isinstance(node, yaml.ScalarNode)
            and node.tag == "tag:yaml.org,2002:null"
            and type(None) in options
        ):
            return None
        last: ConfigError | None = None
        for option in options:
            if option is type(None):
                continue
            try:
                return convert_node(node, option, source=source, path=path)
            except ConfigError as exc:
                last = exc
        assert last is not None
        raise last
    if dataclasses.is_dataclass(target) and isinstance(target, type):
        return _convert_dataclass(node, target, source=source, path=path)
    if origin is Literal:
        value = _scalar(node, source, path)
        allowed = get_args(target)
        if value not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            raise ConfigError(f"{path}: must be one of {choices}, got {value!r}", where=where(node, source))
        return value
    if origin in (tuple, list) or target in (tuple, list):
        if not isinstance(node, yaml.SequenceNode):
            raise ConfigError(f"{path}: expected a list", where=where(node, source))
        args = get_args(target)
        item_type = args[0] if args else object
        return tuple(
            convert_node(item, item_type, source=source, path=f"{path}[{i}]")
            for i, item in enumerate(node.value)
        )
    if origin in (dict, Mapping, typing.Mapping) or target in (dict, Mapping):
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(f"{path}: expected a mapping", where=where(node, source))
        args = get_args(target)
        value_type = args[1] if len(args) == 2 else object
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_scalar(key_node, source, path))
            result[key] = convert_node(
                value_node, value_type, source=source, path=f"{path}.{key}".lstrip(".")
            )
        return result
    if isinstance(target, type) and issubclass(target, Enum):
        raw = _scalar(node, source, path)
        try:
            return target(raw)
        except ValueError as exc:
            raise ConfigError(f"{path}: unknown value {raw!r}", where=where(node, source)) from exc
    if target in (str, int, float, bool):
        return _typed_scalar(node, target, source, path)
    raise ConfigError(f"{path}: unsupported setting type {target!r}", where=where(node, source))


def _convert_dataclass(node: yaml.Node, target: type[T], *, source: str, path: str) -> T:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{path or 'config'}: expected a mapping", where=where(node, source))
    hints = get_type_hints(target)
    names = {f.name for f in dataclasses.fields(target)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = str(_scalar(key_node, source, path))
        full = f"{path}.{key}" if path else key
        if key in _SECRET_FIELDS:
            raise ConfigError(
                f"{full}: secrets are never read from the config file; set {key}_env or {key}_file",
                where=where(key_node, source),
            )
        if key not in names:
            known = ", ".join(sorted(names - _SECRET_FIELDS))
            raise ConfigError(
                f"unknown setting {full!r} (known here: {known})", where=where(key_node, source)
            )
        values[key] = convert_node(value_node, hints[key], source=source, path=full)
    try:
        return target(**values)
    except TypeError as exc:
        raise ConfigError(f"{path or 'config'}: {exc}", where=where(node, source)) from exc


def _scalar(node: yaml.Node, source: str, path: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError(f"{path}: expected a single value", where=where(node, source))
    return yaml.safe_load(yaml.serialize(node))


def _typed_scalar(node: yaml.Node, target: type, source: str, path: str) -> Any:
    value = _scalar(node, source, path)
    if target is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if target is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, target) or (target is int and isinstance(value, bool)):
        raise ConfigError(
            f"{path}: expected {target.__name__}, got {type(value).__name__} {value!r}",
            where=where(node, source),
        )
    return value


def _plain(node: yaml.Node, source: str) -> Any:
    try:
        return yaml.safe_load(yaml.serialize(node))
    except yaml.YAMLError as exc:  # pragma: no cover - composed nodes re-serialise
        raise ConfigError(f"invalid value: {exc}", where=where(node, source)) from exc


def read_secret(*, env_name: str, file: str | None, environ: Mapping[str, str]) -> Secret | None:
    """A secret from `file` (trailing newline stripped) or else the env var `env_name`."""
    if file:
        try:
            value = Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read secret file {file}: {exc.strerror}") from exc
        return Secret(value) if value else None
    value = environ.get(env_name, "")
    return Secret(value) if value else None


def _resolve_secrets(settings: Settings, environ: Mapping[str, str]) -> Settings:
    cordial = dataclasses.replace(
        settings.cordial,
        api_key=read_secret(
            env_name=settings.cordial.api_key_env, file=settings.cordial.api_key_file, environ=environ
        ),
    )
    segment = dataclasses.replace(
        settings.segment,
        write_key=read_secret(
            env_name=settings.segment.write_key_env, file=settings.segment.write_key_file, environ=environ
        ),
    )
    return dataclasses.replace(settings, cordial=cordial, segment=segment)


def _link(settings: Settings) -> Settings:
    """Copy settings that several components share into the parts they are handed."""
    endpoint = settings.cordial.endpoint.rstrip("/")
    seg_endpoint = settings.segment.endpoint.rstrip("/")
    return dataclasses.replace(
        settings,
        cordial=dataclasses.replace(settings.cordial, endpoint=endpoint),
        segment=dataclasses.replace(settings.segment, endpoint=seg_endpoint),
        inbound=dataclasses.replace(settings.inbound, segment_id_key=settings.cordial.segment_id_key),
        outbound=dataclasses.replace(settings.outbound, segment_id_key=settings.cordial.segment_id_key),
    )
