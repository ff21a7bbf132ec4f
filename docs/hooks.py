"""mkdocs hooks: pages that cannot drift from what they describe.

- ``<!-- deploycheck: config reference -->`` becomes a table per section of an env's
  config, generated from the config's own models (the key, its type, its default);
- ``<!-- deploycheck: readme "SECTION" -->`` becomes that section of the README, so the
  tutorial and the README say the same, written once;
- ``<!-- deploycheck: cli -->`` becomes ``deploycheck --help`` and each command's help.
"""

from __future__ import annotations

import contextlib
import io
import re
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pytest_deploycheck.config.schema import TargetEnv

REPO = Path(__file__).resolve().parent.parent
_README = re.compile(r'<!-- deploycheck: readme "([^"]+)" -->')


def on_page_markdown(markdown: str, **_: Any) -> str:
    if "<!-- deploycheck: config reference -->" in markdown:
        markdown = markdown.replace("<!-- deploycheck: config reference -->", config_reference())
    if "<!-- deploycheck: cli -->" in markdown:
        markdown = markdown.replace("<!-- deploycheck: cli -->", cli_reference())
    return _README.sub(lambda found: readme_section(found.group(1)), markdown)


def readme_section(title: str) -> str:
    text = (REPO / "README.md").read_text()
    parts = re.split(r"(?m)^## (.*)$", text)
    for index in range(1, len(parts), 2):
        if parts[index].strip() == title:
            return parts[index + 1].strip() + "\n"
    raise ValueError(f"the README has no section {title!r}")


def config_reference() -> str:
    out: list[str] = []
    _model(TargetEnv, "envs.NAME", out, seen=set())
    return "\n".join(out)


def _model(model: type[BaseModel], where: str, out: list[str], seen: set[str]) -> None:
    nested: list[tuple[type[BaseModel], str]] = []
    rows = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key == "name" and model is TargetEnv:
            continue
        inner = _inner_model(field.annotation)
        if inner is not None:
            nested.append((inner, f"{where}.{key}"))
        rows.append(f"| `{key}` | {_type(field.annotation)} | {_default(field)} |")
    out.append(f"### `[{where}]`\n")
    doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    if doc:
        out.append(doc + "\n")
    out.append("| key | type | default |\n|---|---|---|")
    out.extend(rows)
    out.append("")
    for inner, path in nested:
        if path not in seen:
            seen.add(path)
            _model(inner, path, out, seen)


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _type(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or str(annotation).replace("typing.", "")
    text = re.sub(r"pytest_deploycheck\.[\w.]+\.", "", text)
    return "`" + text.replace("|", "or") + "`"


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        made = field.default_factory()
        if isinstance(made, BaseModel):
            return "(the table below)"
        return f"`{made!r}`"
    return f"`{field.default!r}`"


def cli_reference() -> str:
    from pytest_deploycheck import cli

    chunks = []
    for args in (["--help"], ["init", "--help"], ["cleanup", "--help"], ["schema", "--help"]):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer), contextlib.suppress(SystemExit):
            cli.main(args)
        chunks.append(f"```text\n$ deploycheck {' '.join(args)}\n{buffer.getvalue().strip()}\n```\n")
    return "\n".join(chunks)
