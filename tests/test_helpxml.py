"""The toolbox's help XML: well-formed, complete, true to the parameters, and committed."""

from __future__ import annotations

import base64
import html
import struct
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import List

import pytest

from arctoken_core.toolbox import helpxml
from arctoken_core.toolbox import spec as toolspec

ROOT = Path(__file__).resolve().parent.parent
TOOL_FILES = {f"ArcTokenTools.{t.name}.pyt.xml": t for t in toolspec.TOOLBOX.tools}


def _root(name: str) -> ET.Element:
    return ET.fromstring(helpxml.render_help()[name])


def _rich_text(element: ET.Element) -> ET.Element:
    """The HTML stored as text inside a help element, parsed (it must be well-formed too)."""
    assert element.text
    return ET.fromstring(element.text)


def test_one_file_for_the_toolbox_and_each_tool() -> None:
    assert sorted(helpxml.render_help()) == sorted(["ArcTokenTools.pyt.xml", *TOOL_FILES])


def test_committed_help_matches_the_generator() -> None:
    """Fails when the parameters changed but the help files were not regenerated."""
    for name, text in helpxml.render_help().items():
        committed = (ROOT / name).read_text(encoding="utf-8")
        assert committed == text, f"{name} is stale: run python -m arctoken_core.toolbox.helpxml"


def test_output_is_deterministic_and_undated() -> None:
    first, second = helpxml.render_help(), helpxml.render_help()
    assert first == second
    for text in first.values():
        for tag in ("CreaDate", "CreaTime", "ModDate", "ModTime", "mdDateSt"):
            assert tag not in text


def test_toolbox_file() -> None:
    root = _root("ArcTokenTools.pyt.xml")
    assert root.tag == "metadata"
    assert root.attrib["{http://www.w3.org/XML/1998/namespace}lang"] == "en"
    box = root.find("toolbox")
    assert box is not None and box.attrib == {"name": "ArcTokenTools", "alias": "ArcTokenTools"}
    assert root.findtext("dataIdInfo/idCitation/resTitle") == "ArcTokenTools"
    assert root.findtext("distInfo/distributor/distorFormat/formatName") == "ArcToolbox Toolbox"


@pytest.mark.parametrize("name", sorted(TOOL_FILES))
def test_tool_file_names_every_parameter_as_defined(name: str) -> None:
    spec = TOOL_FILES[name]
    root = _root(name)
    tool = root.find("tool")
    assert tool is not None
    assert tool.attrib == {
        "name": spec.name,
        "displayname": spec.label,
        "toolboxalias": "ArcTokenTools",
    }
    params = tool.findall("parameters/param")
    assert [p.attrib["name"] for p in params] == [s.name for s in spec.params]
    for element, param in zip(params, spec.params):
        assert element.attrib["displayname"] == param.label
        assert element.attrib["type"] == param.parameter_type
        assert element.attrib["direction"] == param.direction
        assert element.attrib["datatype"] == helpxml.DATATYPE_NAMES[param.datatype]
        assert element.attrib["expression"] == helpxml.expression(param)
        dialog = element.find("dialogReference")
        python = element.find("pythonReference")
        assert dialog is not None and python is not None
        assert html.escape(param.help, quote=False) in (dialog.text or "")
        assert _rich_text(dialog).tag == "DIV" and _rich_text(python).tag == "DIV"
    assert root.findtext("dataIdInfo/idCitation/resTitle") == spec.label
    assert root.findtext("distInfo/distributor/distorFormat/formatName") == "ArcToolbox Tool"


@pytest.mark.parametrize("name", sorted(TOOL_FILES))
def test_summary_usage_and_examples(name: str) -> None:
    spec = TOOL_FILES[name]
    tool = _root(name).find("tool")
    assert tool is not None
    for tag in ("summary", "usage"):
        element = tool.find(tag)
        assert element is not None
        _rich_text(element)
    usage = tool.find("usage")
    assert usage is not None
    bullets: List[ET.Element] = _rich_text(usage).findall(".//LI")
    assert len(bullets) == len(spec.usage)
    examples = tool.findall("scriptExamples/scriptExample")
    assert len(examples) == len(spec.examples)
    for example in examples:
        assert example.findtext("title")
        code = example.findtext("code") or ""
        compile(code, "example", "exec")
        assert spec.name in code


def test_choices_and_ranges_in_the_python_reference() -> None:
    kind = toolspec.GENERATE_TOKEN.param("connection_type")
    assert '"ArcGIS Pro active portal"' in helpxml.python_reference(kind)
    assert helpxml.expression(kind).startswith("ArcGIS Online | ")
    expiration = toolspec.GENERATE_TOKEN.param("expiration")
    assert "From 1 to 20160." in helpxml.python_reference(expiration)
    assert helpxml.expression(expiration) == "{expiration}"
    token = toolspec.GENERATE_TOKEN.param("token")
    assert "getOutput" in helpxml.python_reference(token)


def test_write_help_and_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = helpxml.write_help(str(tmp_path))
    assert sorted(Path(p).name for p in paths) == sorted(helpxml.render_help())
    for path in paths:
        ET.parse(path)
    again = tmp_path / "again"
    again.mkdir()
    assert helpxml.main([str(again)]) == 0
    assert sorted(p.name for p in again.iterdir()) == sorted(helpxml.render_help())
    printed = capsys.readouterr().out.split()
    assert len(printed) == 3 and all(p.endswith(".pyt.xml") for p in printed)


def test_the_docs_name_every_parameter_and_show_the_template() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for tool in toolspec.TOOLBOX.tools:
        for param in tool.params:
            assert f"| {param.label} | `{param.name}` |" in text, param.name
    template = (ROOT / "examples" / "script_template.py").read_text(encoding="utf-8")
    assert template[template.index("def main(") :].strip() in text


def test_the_default_folder_is_the_one_of_the_pyt() -> None:
    from arctoken_core.toolbox.helpxml import PYT_FOLDER

    assert Path(PYT_FOLDER) == ROOT and (Path(PYT_FOLDER) / "ArcTokenTools.pyt").is_file()


def test_usage_says_where_the_token_file_goes_and_how_to_read_it_back() -> None:
    usage = " ".join(toolspec.GENERATE_TOKEN.usage)
    assert "folder of your own" in usage and "json.load" in usage and "%Token File%" in usage
    assert all(len(item) < 400 for item in toolspec.GENERATE_TOKEN.usage)  # short, as Esri's
    run_usage = " ".join(toolspec.RUN_WITH_CREDENTIALS.usage)
    assert "status cancelled" in run_usage


@pytest.mark.parametrize("name", sorted(TOOL_FILES))
def test_each_tool_has_its_illustration_embedded_as_pro_keeps_one(name: str) -> None:
    """The picture sits in Binary/Thumbnail as a PictureX PNG, rendered from its drawing."""
    spec = TOOL_FILES[name]
    data = _root(name).find("Binary/Thumbnail/Data")
    assert data is not None and data.attrib == {"EsriPropertyType": "PictureX"}
    picture = base64.b64decode(data.text or "", validate=True)
    png = Path(helpxml.illustration_path(spec))
    assert picture == png.read_bytes()
    assert picture[:8] == b"\x89PNG\r\n\x1a\n" and picture[12:16] == b"IHDR"
    width, height = struct.unpack(">II", picture[16:24])
    drawing = ET.parse(png.with_suffix(".svg")).getroot()
    assert (width, height) == (int(drawing.attrib["width"]), int(drawing.attrib["height"]))
    title = drawing.findtext("{http://www.w3.org/2000/svg}title") or ""
    assert title.startswith(spec.label + ":"), "the drawing names its tool"


def test_the_toolbox_file_has_no_tool_illustration() -> None:
    assert _root("ArcTokenTools.pyt.xml").find("Binary") is None
