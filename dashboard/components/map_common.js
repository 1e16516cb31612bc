// Shared by live_map.js and choropleth.js: decode() reads a Google encoded polyline (precision 5) into
// [[lat, lng], ...]; shapes() turns a polygon's encoded rings (or a multipolygon's) into Leaflet
// lat/lng arrays; legendControl() adds the empty legend box that updates fill.
  function decode(str) {
    var out = [], index = 0, lat = 0, lng = 0;
    while (index < str.length) {
      var values = [0, 0];
      for (var k = 0; k < 2; k++) {
        var shift = 0, result = 0, b;
        do { b = str.charCodeAt(index++) - 63; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
        values[k] = (result & 1) ? ~(result >> 1) : (result >> 1);
      }
      lat += values[0]; lng += values[1];
      out.push([lat / 1e5, lng / 1e5]);
    }
    return out;
  }
  function shapes(polys) {
    var latlngs = polys.map(function (rings) { return rings.map(decode); });
    return latlngs.length === 1 ? latlngs[0] : latlngs;
  }
  function legendControl(map) {
    var legend = L.control({position: 'bottomright'});
    legend.onAdd = function () {
      var div = L.DomUtil.create('div', 'gw-legend');
      div.style.cssText = 'background:rgba(255,255,255,.92);padding:6px 9px;border-radius:4px;'
        + 'font:12px/1.5 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:220px';
      return div;
    };
    return legend.addTo(map);
  }
