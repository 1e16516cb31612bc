// GridWatch indicator map: unit outlines drawn once, window.gwp.update(data) recolours them.
// dashboard/components/live_map.py inserts it and fills in the map variable, the configuration and
// map_common.js. Strings were HTML-escaped on the server.
(function () {
  var map = __MAP__;
  var cfg = __CONFIG__;
  __COMMON__
  var canvas = L.canvas({padding: 0.4});
  var gwp = window.gwp = {values: null, title: ''};
  var layers = cfg.rings.map(function (polys, i) {
    var layer = L.polygon(shapes(polys), {renderer: canvas, weight: 0.6, color: '#555555', opacity: 0.9,
                                          fillColor: '#f0f0f0', fillOpacity: 0.8});
    layer.bindTooltip(function () {
      return '<b>' + cfg.names[i] + '</b>' + (gwp.values ? '<br>' + gwp.title + ': ' + gwp.values[i] : '');
    }, {sticky: true});
    layer.on('mouseover', function () { layer.setStyle({weight: 2.6}); });
    layer.on('mouseout', function () { layer.setStyle({weight: 0.6}); });
    return layer.addTo(map);
  });
  var legend = legendControl(map);
  gwp.update = function (d) {
    gwp.values = d.values; gwp.title = d.title;
    layers.forEach(function (layer, i) { layer.setStyle({fillColor: d.fills[i]}); });
    legend.getContainer().innerHTML = d.legend;
    gwp.updated = (gwp.updated || 0) + 1;
  };
})();
