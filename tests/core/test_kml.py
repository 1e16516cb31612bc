"""core.kml: KML folders, ExtendedData and Z; KMZ documents; XML declarations refused."""

from __future__ import annotations

import pytest
import shapely
from test_io import (
    zipped,
)

from core.errors import ReadError
from core.io import list_layers, read_upload

KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>下城区</name>
 <Schema name="s" id="s"><SimpleField name="网格编号" type="string"/></Schema>
 <Folder><name>摄像头</name>
  <Placemark><name>路口1</name>
   <ExtendedData><Data name="状态"><value>在线</value></Data></ExtendedData>
   <Point><coordinates>120.157,30.267,12.5</coordinates></Point></Placemark>
  <Placemark><name>路口2</name>
   <ExtendedData><SchemaData schemaUrl="#s"><SimpleData name="网格编号">DX-4-1</SimpleData></SchemaData>
   </ExtendedData>
   <Point><coordinates>120.158,30.268</coordinates></Point></Placemark>
 </Folder>
 <Folder><name>网格</name>
  <Placemark><name>网格1</name><Polygon><outerBoundaryIs><LinearRing><coordinates>
   120.1,30.2,0 120.2,30.2,0 120.2,30.3,0 120.1,30.2,0</coordinates></LinearRing></outerBoundaryIs>
   <innerBoundaryIs><LinearRing><coordinates>120.15,30.22 120.16,30.22 120.16,30.23 120.15,30.22
   </coordinates></LinearRing></innerBoundaryIs></Polygon></Placemark>
  <Placemark><name>两段</name><MultiGeometry>
   <LineString><coordinates>120.1,30.2 120.2,30.2</coordinates></LineString>
   <LineString><coordinates>120.2,30.3 120.3,30.3</coordinates></LineString></MultiGeometry></Placemark>
 </Folder>
</Document></kml>""".encode()


def test_kml_folders_extended_data_and_z():
    assert list_layers("a.kml", KML) == ("摄像头", "网格")
    result = read_upload("a.kml", KML)
    frame = result.frame
    assert result.layer == "摄像头" and any("2 layers" in n for n in result.notes)
    assert frame["name"].tolist() == ["路口1", "路口2"]
    assert frame["状态"].tolist()[0] == "在线" and frame["网格编号"].tolist()[1] == "DX-4-1"
    assert not shapely.has_z(frame.geometry.array).any()
    assert "dropped Z coordinates (altitude) from 1 features" in result.notes
    grids = read_upload("a.kml", KML, layer="网格").frame
    assert grids.geom_type.tolist() == ["Polygon", "MultiLineString"]
    assert len(grids.geometry.iloc[0].interiors) == 1


def test_kmz_reads_its_document():
    result = read_upload("a.kmz", zipped({"doc.kml": KML, "files/icon.png": b"\x89PNG"}))
    assert len(result.frame) == 2 and result.source_crs == "EPSG:4326"


@pytest.mark.parametrize(
    "declaration",
    [
        '<!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE kml SYSTEM "http://192.0.2.1/kml.dtd">',
        '<!ENTITY lol "lol">',
    ],
)
def test_xml_declarations_are_refused(declaration):
    data = KML.replace(b"<kml ", declaration.encode() + b"<kml ", 1)
    with pytest.raises(ReadError, match="DOCTYPE or ENTITY"):
        read_upload("evil.kml", data)
    with pytest.raises(ReadError, match="DOCTYPE or ENTITY"):
        read_upload("evil.kmz", zipped({"doc.kml": data}))
