"""The toolbox's help (its item description metadata), generated from :mod:`toolspec`.

ArcGIS Pro reads a Python toolbox's help from XML files beside the .pyt:
``ArcTokenTools.pyt.xml`` for the toolbox and ``ArcTokenTools.<Tool>.pyt.xml`` for each tool,
in the metadata format Pro itself writes (``<metadata>`` with ``<Esri>``, ``<tool>`` with
``<parameters>``, ``<summary>``, ``<usage>`` and ``<scriptExamples>``, ``<dataIdInfo>``, and
the tool's illustration as a ``<Binary><Thumbnail>`` picture, base64 as Pro embeds one).
Rich text inside those elements is HTML stored as escaped text, as Pro stores it.

Each illustration is drawn as ``illustrations/<Tool>.svg`` and rendered to the PNG beside it
(``rsvg-convert -f png -o Tool.png Tool.svg``); the PNG is what the help embeds.

The output is deterministic (no dates), so a test can insist that the committed files match
the parameters. Regenerate them with::

    python -m arctoken_core.toolbox.helpxml [folder]
"""

from __future__ import annotations

import argparse
import base64
import html
import os
import sys
import xml.etree.ElementTree as ET  # noqa: S405 - writes XML; nothing untrusted is parsed
from typing import Dict, Iterable, List, Optional, Sequence

from .spec import TOOLBOX
from .types import DERIVED, OPTIONAL, ParamSpec, ToolboxSpec, ToolSpec

DATATYPE_NAMES = {
    "GPString": "String",
    "GPEncryptedString": "Encrypted String",
    "GPLong": "Long",
    "GPDouble": "Double",
    "GPBoolean": "Boolean",
    "GPDate": "Date",
    "DEFile": "File",
}
"""How the help names each data type (the names ArcGIS Pro shows)."""

TOOLBOX_FILE_STEM = "ArcTokenTools"
PYT_FOLDER = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
"""The folder of ArcTokenTools.pyt, where ArcGIS Pro looks for the help files."""
HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
ILLUSTRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "illustrations")
"""Where each tool's illustration is kept: ``<Tool>.svg`` drawn, ``<Tool>.png`` rendered."""


def _rich(*paragraphs: str) -> str:
    """Paragraphs as the HTML ArcGIS Pro keeps in metadata text."""
    body = "".join(f"<P><SPAN>{html.escape(p, quote=False)}</SPAN></P>" for p in paragraphs)
    return f'<DIV STYLE="text-align:Left;"><DIV>{body}</DIV></DIV>'


def _bullets(items: Iterable[str]) -> str:
    """Bullet points as the HTML ArcGIS Pro keeps in metadata text."""
    body = "".join(f"<LI><P><SPAN>{html.escape(i, quote=False)}</SPAN></P></LI>" for i in items)
    return f'<DIV STYLE="text-align:Left;"><UL>{body}</UL></DIV>'


def _sub(parent: ET.Element, tag: str, text: Optional[str] = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def expression(spec: ParamSpec) -> str:
    """The parameter's syntax as tool help shows it: ``{a | b}`` for an optional choice."""
    listed = spec.filter_type == "ValueList" and spec.filter_list
    text = " | ".join(spec.filter_list) if listed else spec.name
    return "{" + text + "}" if spec.parameter_type == OPTIONAL else text


def python_reference(spec: ParamSpec) -> str:
    """The parameter's help for Python: the dialog help plus how to pass the value."""
    extra: List[str] = []
    if spec.filter_type == "ValueList" and spec.filter_list:
        choices = ", ".join(f'"{label}"' for label in spec.filter_list)
        extra.append(f"One of: {choices}.")
    if spec.filter_type == "Range":
        low, high = spec.filter_list
        extra.append(f"From {low:g} to {high:g}.")
    if spec.parameter_type == DERIVED:
        extra.append("A derived output: read it from the Result object (getOutput).")
    elif spec.default is not None:
        extra.append(f"Default: {spec.default_value}.")
    return _rich(spec.help, *extra)


def _metadata_root() -> ET.Element:
    root = ET.Element("metadata", {"xml:lang": "en"})
    esri = _sub(root, "Esri")
    _sub(esri, "ArcGISFormat", "1.0")
    _sub(esri, "SyncOnce", "FALSE")
    return root


def _data_id(
    root: ET.Element, title: str, keywords: Sequence[str], purpose: str, abstract: str = ""
) -> None:
    info = _sub(root, "dataIdInfo")
    citation = _sub(info, "idCitation")
    _sub(citation, "resTitle", title)
    if abstract:
        _sub(info, "idAbs", abstract)
    _sub(info, "idPurp", purpose)
    keys = _sub(info, "searchKeys")
    for word in keywords:
        _sub(keys, "keyword", word)


def _tail(root: ET.Element, format_name: str) -> None:
    dist = _sub(_sub(_sub(root, "distInfo"), "distributor"), "distorFormat")
    _sub(dist, "formatName", format_name)
    _sub(_sub(root, "mdHrLv"), "ScopeCd", value="005")


def _param(parent: ET.Element, spec: ParamSpec) -> None:
    param = _sub(
        parent,
        "param",
        name=spec.name,
        displayname=spec.label,
        type=spec.parameter_type,
        direction=spec.direction,
        datatype=DATATYPE_NAMES[spec.datatype],
        expression=expression(spec),
    )
    _sub(param, "dialogReference", _rich(spec.help))
    _sub(param, "pythonReference", python_reference(spec))


def illustration_path(tool: ToolSpec) -> str:
    """The PNG that illustrates ``tool`` in its help."""
    return os.path.join(ILLUSTRATIONS, f"{tool.name}.png")


def _illustration(root: ET.Element, tool: ToolSpec) -> None:
    """Embed the tool's picture where Pro keeps an illustration (Binary/Thumbnail, PictureX)."""
    with open(illustration_path(tool), "rb") as stream:
        picture = base64.b64encode(stream.read()).decode("ascii")
    thumbnail = _sub(_sub(root, "Binary"), "Thumbnail")
    _sub(thumbnail, "Data", picture, EsriPropertyType="PictureX")


def tool_xml(tool: ToolSpec, toolbox: ToolboxSpec = TOOLBOX) -> ET.Element:
    """The metadata element of one tool."""
    root = _metadata_root()
    element = _sub(root, "tool", name=tool.name, displayname=tool.label, toolboxalias=toolbox.alias)
    params = _sub(element, "parameters")
    for spec in tool.params:
        _param(params, spec)
    _sub(element, "summary", _rich(tool.summary))
    _sub(element, "usage", _bullets(tool.usage))
    examples = _sub(element, "scriptExamples")
    for sample in tool.examples:
        example = _sub(examples, "scriptExample")
        _sub(example, "title", sample.title)
        _sub(example, "para", _rich(sample.text))
        _sub(example, "code", sample.code)
    _data_id(root, tool.label, tool.keywords, _rich(tool.summary))
    _tail(root, "ArcToolbox Tool")
    _illustration(root, tool)
    return root


def toolbox_xml(toolbox: ToolboxSpec = TOOLBOX) -> ET.Element:
    """The metadata element of the toolbox."""
    root = _metadata_root()
    element = _sub(root, "toolbox", name=TOOLBOX_FILE_STEM, alias=toolbox.alias)
    _sub(element, "toolsets")
    _data_id(
        root, toolbox.label, toolbox.keywords, _rich(toolbox.summary), _rich(toolbox.description)
    )
    _tail(root, "ArcToolbox Toolbox")
    return root


def _text(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return HEADER + ET.tostring(root, encoding="unicode") + "\n"


def render_help(toolbox: ToolboxSpec = TOOLBOX) -> Dict[str, str]:
    """Every help file's name and content."""
    files = {f"{TOOLBOX_FILE_STEM}.pyt.xml": _text(toolbox_xml(toolbox))}
    for tool in toolbox.tools:
        files[f"{TOOLBOX_FILE_STEM}.{tool.name}.pyt.xml"] = _text(tool_xml(tool, toolbox))
    return files


def write_help(folder: str) -> List[str]:
    """Write the help files into ``folder`` (beside the .pyt); return their paths."""
    paths = []
    for name, text in render_help().items():
        path = os.path.join(folder, name)
        with open(path, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        paths.append(path)
    return paths


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m arctoken_core.toolbox.helpxml [FOLDER]``: write the help; print the paths."""
    parser = argparse.ArgumentParser(
        prog="python -m arctoken_core.toolbox.helpxml",
        description="Write the toolbox's help XML files, generated from its parameter specs.",
    )
    parser.add_argument(
        "folder",
        nargs="?",
        default=PYT_FOLDER,
        help="where to write them (default: beside the .pyt)",
    )
    folder = parser.parse_args(argv).folder
    try:
        os.makedirs(folder, exist_ok=True)
        paths = write_help(folder)
    except OSError as exc:
        print(f"helpxml: error: cannot write to {folder}: {exc.strerror}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
