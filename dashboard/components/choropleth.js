// GridWatch indicator map: unit outlines drawn once (with any fixed outlines over or under them),
// window.gwp.update(data) recolours the units and replaces the optional overlay layers (polygons with a
// colour, toggled in a layer switch). dashboard/components/maps.py inserts it and fills in the map
// variable, the configuration and map_common.js. Strings were HTML-escaped on the server.
(function () {
  var map = __MAP__;
  var cfg = __CONFIG__;
  var C = cfg.colors;
  __COMMON__
  var canvas = L.canvas({padding: 0.4});
  var gwp = window.gwp = {values: null, title: '', map: map, weight: 0.6};
  var switcher = null;
  function layerSwitch() {
    if (!switcher) { switcher = L.control.layers(null, null, {collapsed: false, position: 'topright'}).addTo(map); }
    return switcher;
  }
  function drawOutlines(below) {
    return (cfg.outlines || []).filter(function (o) { return !!o.below === below; }).map(function (o) {
      var group = L.featureGroup().addTo(map);
      o.rings.forEach(function (polys) {
        L.polygon(shapes(polys), {renderer: canvas, fill: false, color: o.color, weight: o.weight, opacity: 1,
                                  interactive: false}).addTo(group);
      });
      if (o.label) { layerSwitch().addOverlay(group, o.label); }
      return group.getLayers().length;
    });
  }
  var under = drawOutlines(true);
  var units = L.featureGroup().addTo(map);
  var layers = cfg.rings.map(function (polys, i) {
    var layer = L.polygon(shapes(polys), {renderer: canvas, weight: 0.6, color: C.line, opacity: 0.9,
                                          fillColor: C.noData, fillOpacity: 0.8});
    layer.bindTooltip(function () {
      if (!gwp.values) return '<b>' + cfg.names[i] + '</b>';
      return '<b>' + cfg.names[i] + '</b><br>' + (gwp.title ? gwp.title + ': ' : '') + gwp.values[i];
    }, {sticky: true});
    layer.on('mouseover', function () { layer.setStyle({weight: gwp.weight + 2}); });
    layer.on('mouseout', function () { layer.setStyle({weight: gwp.weight}); });
    return layer.addTo(units);
  });
  if (cfg.layer) { layerSwitch().addOverlay(units, cfg.layer); }
  gwp.layers = layers; gwp.names = cfg.names;
  gwp.outlines = under.concat(drawOutlines(false));  // polygons per outline layer, those under the units first
  var legend = legendControl(map);
  // A map first drawn in a hidden tab had no size, so its fit to the units failed: fit again whenever its
  // width changes, until the reader has moved the map.
  var b = cfg.bounds, width = map.getContainer().clientWidth, touched = false;
  ['mousedown', 'wheel', 'touchstart', 'keydown'].forEach(function (type) {
    map.getContainer().addEventListener(type, function () { touched = true; }, {passive: true});
  });
  new ResizeObserver(function () {
    var now = map.getContainer().clientWidth;
    if (now > 0 && now !== width && !touched) {
      map.invalidateSize();
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    }
    width = now;
  }).observe(map.getContainer());
  var overlays = [];
  function drawOverlays(list) {
    overlays.forEach(function (group) { map.removeLayer(group); if (switcher) { switcher.removeLayer(group); } });
    overlays = (list || []).map(function (o) {
      var group = L.layerGroup();
      o.rings.forEach(function (polys, i) {
        var shape = L.polygon(shapes(polys), {renderer: canvas, weight: 0.8, color: o.color, opacity: 0.9,
                                              fillColor: o.color, fillOpacity: o.opacity, interactive: !!o.tips});
        if (o.tips) { shape.bindTooltip(o.tips[i], {sticky: true}); }
        group.addLayer(shape);
      });
      if (o.on) { group.addTo(map); }
      layerSwitch().addOverlay(group, o.label);
      return group;
    });
    gwp.overlays = overlays.map(function (g) { return g.getLayers().length; });
  }
  gwp.update = function (d) {
    drawOverlays(d.overlays);
    gwp.values = d.values; gwp.title = d.title; gwp.fills = d.fills; gwp.count = layers.length;
    gwp.weight = d.weight === undefined ? 0.6 : d.weight;
    layers.forEach(function (layer, i) {
      layer.setStyle({fillColor: d.fills[i], fillOpacity: d.fillOpacity, weight: gwp.weight,
                      color: d.lines ? d.lines[i] : C.line, opacity: d.lines ? 1 : 0.9});
    });
    legend.getContainer().innerHTML = d.legend;
    gwp.updated = (gwp.updated || 0) + 1;
  };
})();
