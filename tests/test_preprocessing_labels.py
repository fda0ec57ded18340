"""Labels: Hydrogen drumkit.xml (three layouts), file-name and folder keywords, families."""

import pytest

from preprocessing.hydrogen import KitFileError, parse_kit
from preprocessing.labels import FAMILIES, LABELS, UNKNOWN, family_of, label_for
from preprocessing.naming import make_unique, output_name, safe_part

OLD_KIT = """<?xml version="1.0" encoding="UTF-8"?>
<drumkit_info>
  <name>Tiny Old Kit</name>
  <instrumentList>
    <instrument>
      <id>0</id><name>BassDrum</name>
      <layer><filename>bd_hard.wav</filename><min>0.5</min><max>1</max></layer>
      <layer><filename>bd_soft.wav</filename><min>0</min><max>0.5</max></layer>
    </instrument>
    <instrument><id>1</id><name>Zap 1</name>
      <layer><filename>fx/zap.wav</filename><min>0</min><max>1</max></layer></instrument>
    <instrument><id>2</id><name>15</name>
      <layer><filename>t1_01.wav</filename><min>0</min><max>1</max></layer></instrument>
    <instrument><id>3</id><name>Sample: beats_01-10.flac</name>
      <layer><filename>beats_01-10.flac</filename><min>0</min><max>1</max></layer></instrument>
  </instrumentList>
</drumkit_info>
"""

NEW_KIT = """<?xml version="1.0" encoding="UTF-8"?>
<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">
  <name>Tiny New Kit</name>
  <componentList><drumkitComponent><id>0</id><name>Main</name></drumkitComponent></componentList>
  <instrumentList>
    <instrument>
      <id>0</id><name>Hat Closed</name>
      <instrumentComponent>
        <component_id>0</component_id>
        <layer><filename>HH-Soft.wav</filename><min>0</min><max>0.3</max></layer>
        <layer><filename>HH-Med.wav</filename><min>0.3</min><max>0.7</max></layer>
        <layer><filename>HH-Hard.wav</filename><min>0.7</min><max>1</max></layer>
      </instrumentComponent>
    </instrument>
  </instrumentList>
</drumkit_info>
"""

OLDEST_KIT = """<drumkit_info>
  <name>Tiny Oldest Kit</name>
  <instrumentList>
    <instrument><id>0</id><filename>PowR_SN_1.flac</filename><name>Snare</name></instrument>
  </instrumentList>
</drumkit_info>
"""


def kit_folder(tmp_path, name, xml):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "drumkit.xml").write_text(xml, encoding="utf-8")
    return folder


def test_old_layout_gives_names_families_and_velocity_layers(tmp_path):
    folder = kit_folder(tmp_path, "old", OLD_KIT)
    kit = parse_kit(folder / "drumkit.xml")
    assert kit.name == "Tiny Old Kit"
    soft = label_for(folder / "bd_soft.wav", kit)
    hard = label_for(folder / "bd_hard.wav", kit)
    assert (soft.kit, soft.instrument, soft.family) == ("Tiny Old Kit", "BassDrum", "kick")
    assert (soft.velocity_layer, soft.velocity_range) == ("1/2", "0-0.5")  # softest is layer 1
    assert (hard.velocity_layer, hard.velocity_range) == ("2/2", "0.5-1")


def test_new_namespaced_layout_with_components(tmp_path):
    folder = kit_folder(tmp_path, "new", NEW_KIT)
    kit = parse_kit(folder / "drumkit.xml")
    label = label_for(folder / "HH-Med.wav", kit)
    assert (label.kit, label.instrument, label.family, label.velocity_layer) == ("Tiny New Kit", "Hat Closed", "hat", "2/3")
    # kit file names are matched ignoring case, as kits made on other systems need
    assert label_for(folder / "hh-hard.WAV", kit).velocity_layer == "3/3"


def test_oldest_layout_with_one_filename_per_instrument(tmp_path):
    folder = kit_folder(tmp_path, "oldest", OLDEST_KIT)
    label = label_for(folder / "PowR_SN_1.flac", parse_kit(folder / "drumkit.xml"))
    assert (label.instrument, label.family, label.velocity_layer) == ("Snare", "snare", "")


def test_other_unknown_and_file_name_fallbacks(tmp_path):
    folder = kit_folder(tmp_path, "old", OLD_KIT)
    kit = parse_kit(folder / "drumkit.xml")
    zap = label_for(folder / "fx" / "zap.wav", kit)
    assert (zap.instrument, zap.family) == ("Zap 1", "other")  # a real name, no family
    placeholder = label_for(folder / "t1_01.wav", kit)
    assert (placeholder.instrument, placeholder.family) == ("t1_01", UNKNOWN)  # "15" names nothing
    echoed = label_for(folder / "beats_01-10.flac", kit)
    assert echoed.family == UNKNOWN  # a name made from the file name says nothing
    not_in_kit = label_for(folder / "snare_extra.wav", kit)
    assert (not_in_kit.instrument, not_in_kit.family) == ("snare_extra", "snare")


def test_without_kit_file_names_then_folders_decide(tmp_path):
    assert label_for(tmp_path / "Lib" / "Kicks" / "001.wav", None, ("Lib", "Kicks")).family == "kick"
    label = label_for(tmp_path / "Lib" / "openhat2.wav", None, ("Lib",))
    assert (label.kit, label.instrument, label.family) == ("Lib", "openhat2", "hat")
    assert label_for(tmp_path / "Lib" / "take 7.wav", None, ("Lib",)).family == UNKNOWN


def test_broken_drumkit_xml_is_reported(tmp_path):
    folder = kit_folder(tmp_path, "broken", "<drumkit_info><name>oops")
    with pytest.raises(KitFileError, match="not valid XML"):
        parse_kit(folder / "drumkit.xml")
    other = kit_folder(tmp_path, "song", "<song><name>a song</name></song>")
    with pytest.raises(KitFileError, match="not a Hydrogen drumkit"):
        parse_kit(other / "drumkit.xml")


@pytest.mark.parametrize(
    "name, family",
    [
        ('Kick (Tama Superstar 22")', "kick"),
        ("c3 - bass drum 1", "kick"),
        ("PowR_BD_1", "kick"),
        ("Snare Rimshot", "snare"),
        ("Pearl Side Stick", "snare"),
        ("sd_01", "snare"),
        ("Hand Clap", "clap"),
        ("Finger Snaps", "clap"),
        ("Hi-Hat Pedal", "hat"),
        ("closehihat3", "hat"),
        ("openhat2", "hat"),
        ("Closed HH", "hat"),
        ("Floor Tom", "tom"),
        ("tomhi2", "tom"),
        ("bottom", "other"),
        ("Crash/Ride Bell", "cymbal"),
        ("Zildjian Splash Choke", "cymbal"),
        ("China-0", "cymbal"),
        ("Djembe1 Bass", "percussion"),
        ("misc_Cowbell", "percussion"),
        ("Sangban1 Bell Hit", "percussion"),
        ("Zap 1", "other"),
        ("FX", "other"),
        ("Drüm Kïck", "kick"),
    ],
)
def test_family_of_names(name, family):
    assert family_of(name) == family


def test_families_are_the_contract_and_unknown_is_extra():
    assert FAMILIES == ("kick", "snare", "clap", "hat", "tom", "cymbal", "percussion", "other")
    assert LABELS == FAMILIES + ("unknown",)


def test_output_names_are_readable_and_safe():
    assert output_name("The Black Pearl 1.0", "Pearl Kick", "PearlKick-Hard") == "The_Black_Pearl_1.0__Pearl_Kick__PearlKick-Hard.wav"
    assert output_name("Kit ü", "Snare drüm ✓", "Snare drüm 1 ✓") == "Kit_u__Snare_drum__Snare_drum_1.wav"
    assert output_name("Lib", "kick01", "kick01") == "Lib__kick01.wav"
    assert safe_part("鼓") != safe_part("钹") and safe_part("鼓").startswith("x")
    assert "__" not in safe_part("a__b  c") and safe_part("../..").startswith("x")


def test_clashing_names_get_stable_suffixes():
    names = make_unique(["K__a.wav", "k__A.wav", "K__b.wav"], ["/s/a.wav", "/s/A.flac", "/s/b.wav"])
    assert names[2] == "K__b.wav"
    assert len({n.casefold() for n in names}) == 3
    # a name depends only on its own source, not on which other files are in the batch
    again = make_unique(["K__a.wav", "k__A.wav"], ["/s/a.wav", "/s/A.flac"])
    assert again == names[:2]
