"""Hydrogen 1.2's ``drumkit.xml``: the instruments of a kit, one MIDI note each, in the
order and with every element that Hydrogen's schema (``drumkit.xsd``) requires."""

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

#: General MIDI's drum notes start at 36 (kick), as Hydrogen's own kits do, and MIDI stops
#: at 127: one note each.
FIRST_NOTE, LAST_NOTE = 36, 127
MAX_INSTRUMENTS = LAST_NOTE + 1 - FIRST_NOTE
DRUMKIT_XML = "drumkit.xml"
_HYDROGEN_NAMESPACE = "http://www.hydrogen-music.org/drumkit"
_XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"


def _add(parent: ET.Element, tag: str, text: object) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = str(text)
    return element


def _number(value: float) -> str:
    return f"{value:.4g}"


def drumkit_xml(name: str, entries: Sequence[dict[str, Any]]) -> str:
    """Hydrogen 1.2's ``drumkit.xml`` for the instruments of :func:`kit_files`.

    Every element the 1.2 schema (``drumkit.xsd``) requires is written, in its order.
    """
    root = ET.Element("drumkit_info", {"xmlns": _HYDROGEN_NAMESPACE, "xmlns:xsi": _XSI_NAMESPACE})
    _add(root, "name", name)
    _add(root, "author", "ML Sample Generator")
    _add(
        root,
        "info",
        "Drum sounds decoded from generative models by ML Sample Generator. "
        "kit.json (in the folder export) records each sound's model and point.",
    )
    _add(root, "license", "undefined license")
    _add(root, "image", "")
    _add(root, "imageLicense", "undefined license")
    components = ET.SubElement(root, "componentList")
    component = ET.SubElement(components, "drumkitComponent")
    _add(component, "id", 0)
    _add(component, "name", "Main")
    _add(component, "volume", 1)
    instruments = ET.SubElement(root, "instrumentList")
    for index, entry in enumerate(entries):
        instrument = ET.SubElement(instruments, "instrument")
        for tag, value in (
            ("id", index),
            ("name", entry["name"]),
            ("volume", 1),
            ("isMuted", "false"),
            ("isSoloed", "false"),
            ("pan", 0),
            ("pitchOffset", 0),
            ("randomPitchFactor", 0),
            ("gain", 1),
            ("applyVelocity", "true"),
            ("filterActive", "false"),
            ("filterCutoff", 1),
            ("filterResonance", 0),
            ("Attack", 0),
            ("Decay", 0),
            ("Sustain", 1),
            ("Release", 1000),
            ("muteGroup", -1),
            ("midiOutChannel", -1),
            ("midiOutNote", FIRST_NOTE + index),
            ("isStopNote", "false"),
            ("sampleSelectionAlgo", "VELOCITY"),
            ("isHihat", -1),
            ("lower_cc", 0),
            ("higher_cc", 127),
            ("FX1Level", 0),
            ("FX2Level", 0),
            ("FX3Level", 0),
            ("FX4Level", 0),
        ):
            _add(instrument, tag, value)
        part = ET.SubElement(instrument, "instrumentComponent")
        _add(part, "component_id", 0)
        _add(part, "gain", 1)
        for layer in entry["layers"]:
            element = ET.SubElement(part, "layer")
            _add(element, "filename", layer["file"])
            _add(element, "min", _number(layer["min"]))
            _add(element, "max", _number(layer["max"]))
            _add(element, "gain", _number(layer["gain"]))
            _add(element, "pitch", 0)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
