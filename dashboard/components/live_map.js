// GridWatch command-center map: the base layers and window.gw.update(data) for the live ones.
// dashboard/components/maps.py (live_base_map) inserts it and fills in the map variable and the configuration
// (components/map_builders.py: base_config; gw.update gets live_payload).
// Every string in `cfg` and in update payloads was HTML-escaped on the server; it only goes into
// tooltips and legends, never into code.
(function () {
  var started = performance.now();
  var map = __MAP__;
  var cfg = __CONFIG__;
  var L_ = cfg.labels;
  var C = cfg.colors;
  var canvas = L.canvas({padding: 0.4});
  var CELL_PX = 84;

  __COMMON__

  var gw = window.gw = {map: map, grid: null, points: {}};
  var groups = {};
  ['grids', 'communities', 'streets', 'density', 'cameras', 'views', 'services', 'tickets', 'checkins']
    .forEach(function (name) { groups[name] = L.featureGroup(); });
  var focusGroup = L.featureGroup().addTo(map);
  gw.groups = groups;

  // ---- grids and outlines (static for a boundary version) ----
  var gridLayers = cfg.grids.rings.map(function (polys, i) {
    var layer = L.polygon(shapes(polys), {renderer: canvas, weight: 0.6, color: C.line, opacity: 0.9,
                                          fillColor: C.noData, fillOpacity: 0.72});
    layer.bindTooltip(function () {
      var g = gw.grid;
      if (!g) return '<b>' + cfg.grids.names[i] + '</b>';
      return '<b>' + cfg.grids.names[i] + '</b><br>' + g.measure + ': ' + g.values[i] + '<br>'
        + L_.open + ' ' + g.open[i] + ' · ' + L_.overdue + ' ' + g.overdue[i] + ' · ' + L_.members + ' ' + g.members[i];
    }, {sticky: true});
    layer.on('mouseover', function () { layer.setStyle({weight: 2.6}); });
    layer.on('mouseout', function () { layer.setStyle(gridLine(i)); });
    return layer.addTo(groups.grids);
  });
  function gridLine(i) {
    return i === gw.selected ? {weight: 3.2, color: C.selected} : {weight: 0.6, color: C.line};
  }
  cfg.outlines.forEach(function (outline) {
    outline.rings.forEach(function (polys) {
      L.polygon(shapes(polys), {renderer: canvas, fill: false, color: outline.color, weight: outline.weight,
                                interactive: false}).addTo(groups[outline.group]);
    });
  });

  // ---- points: individual markers close in, counted clusters far out ----
  function draw(name) {
    var set = gw.points[name], group = groups[name];
    group.clearLayers();
    if (name === 'cameras') groups.views.clearLayers();
    if (!set || !map.hasLayer(group)) return;
    var bounds = map.getBounds().pad(0.15), zoom = map.getZoom(), visible = [];
    for (var i = 0; i < set.latlngs.length; i++) if (bounds.contains(set.latlngs[i])) visible.push(i);
    if (zoom >= set.detailZoom || visible.length <= set.maxIndividual) {
      visible.forEach(function (i) { set.marker(i).addTo(group); });
      if (name === 'cameras' && zoom >= cfg.viewZoom && map.hasLayer(groups.views))
        visible.forEach(function (i) { cameraView(set, i).addTo(groups.views); });
      return;
    }
    var bins = {};
    visible.forEach(function (i) {
      var p = map.project(set.latlngs[i], zoom);
      var key = Math.floor(p.x / CELL_PX) + ':' + Math.floor(p.y / CELL_PX);
      var bin = bins[key] || (bins[key] = {n: 0, alert: 0, lat: 0, lng: 0});
      bin.n += 1; bin.lat += set.latlngs[i][0]; bin.lng += set.latlngs[i][1];
      if (set.alert && set.alert(i)) bin.alert += 1;
    });
    Object.keys(bins).forEach(function (key) {
      var bin = bins[key], size = bin.n < 10 ? 24 : bin.n < 100 ? 30 : 38;
      var badge = bin.alert ? '<i style="position:absolute;top:-5px;right:-7px;background:' + C.alert + ';color:#fff;'
        + 'border-radius:8px;padding:0 4px;font:bold 10px/14px sans-serif;font-style:normal">' + bin.alert + '</i>' : '';
      var icon = L.divIcon({className: '', iconSize: [size, size], html:
        '<div style="position:relative;width:' + size + 'px;height:' + size + 'px;border-radius:50%;'
        + 'background:' + set.clusterColor + ';color:#fff;border:2px solid #fff;box-shadow:0 0 3px #333;'
        + 'font:bold 12px/' + (size - 4) + 'px sans-serif;text-align:center">' + bin.n + badge + '</div>'});
      L.marker([bin.lat / bin.n, bin.lng / bin.n], {icon: icon, keyboard: false})
        .bindTooltip(set.clusterTip(bin)).addTo(group);
    });
  }
  function cameraView(set, i) {
    var d = set.d, ll = set.latlngs[i], range = d.range[i], color = cfg.cameraColors[d.status[i]];
    var style = {renderer: canvas, color: color, weight: 1, fillColor: color, fillOpacity: 0.15,
                 interactive: false};
    if (d.az[i] < 0 || d.fov[i] >= 360) return L.circle(ll, Object.assign({radius: range}, style));
    var ring = [ll], k = Math.cos(ll[0] * Math.PI / 180) * 111320;
    for (var a = d.az[i] - d.fov[i] / 2; a <= d.az[i] + d.fov[i] / 2 + 0.01; a += Math.max(d.fov[i] / 12, 1)) {
      var t = a * Math.PI / 180;
      ring.push([ll[0] + range * Math.cos(t) / 111320, ll[1] + range * Math.sin(t) / k]);
    }
    return L.polygon(ring, style);
  }
  function redrawAll() { Object.keys(gw.points).forEach(draw); }
  map.on('moveend', redrawAll);
  map.on('overlayadd overlayremove', redrawAll);

  function circle(ll, color, radius, tip) {
    return L.circleMarker(ll, {renderer: canvas, radius: radius, color: C.halo, weight: 1,
                               fillColor: color, fillOpacity: 0.95}).bindTooltip(tip);
  }
  var builders = {
    cameras: function (d) {
      return {detailZoom: cfg.detailZoom, maxIndividual: 400, clusterColor: C.clusters.cameras,
        alert: function (i) { return d.status[i] !== 0; },
        clusterTip: function (bin) { return bin.n + ' ' + L_.cameras + (bin.alert ? ' · ' + bin.alert + ' ' + L_.down : ''); },
        marker: function (i) {
          var id = d.ids[String(i)];
          return circle(this.latlngs[i], cfg.cameraColors[d.status[i]], 4.5,
                        (id ? id + ' · ' : '') + L_.status[d.status[i]]);
        }};
    },
    services: function (d) {
      return {detailZoom: cfg.detailZoom - 2, maxIndividual: 300, clusterColor: C.clusters.services,
        clusterTip: function (bin) { return bin.n + ' ' + L_.services; },
        marker: function (i) {
          var kind = cfg.serviceKinds[d.kind[i]];
          var icon = L.divIcon({className: '', iconSize: [22, 22], html:
            '<div style="width:20px;height:20px;border-radius:5px;background:' + kind.color + ';color:#fff;'
            + 'border:1px solid #fff;box-shadow:0 0 3px #333;font:bold 12px/20px sans-serif;text-align:center">'
            + kind.symbol + '</div>'});
          return L.marker(this.latlngs[i], {icon: icon}).bindTooltip(d.names[i] + '<br>' + kind.label);
        }};
    },
    tickets: function (d) {
      return {detailZoom: cfg.detailZoom - 1, maxIndividual: 600, clusterColor: C.clusters.tickets,
        alert: function (i) { return d.overdue[i] === 1; },
        clusterTip: function (bin) { return bin.n + ' ' + L_.open + (bin.alert ? ' · ' + bin.alert + ' ' + L_.overdue : ''); },
        marker: function (i) {
          var dot = circle(this.latlngs[i], d.overdue[i] ? C.alert : C.ticket, d.fresh[i] ? 8 : 6, d.tips[i]);
          if (d.fresh[i]) dot.setStyle({color: C.fresh, weight: 3});
          return dot;
        }};
    },
    checkins: function (d) {
      return {detailZoom: cfg.detailZoom - 2, maxIndividual: 300, clusterColor: C.clusters.checkins,
        clusterTip: function (bin) { return bin.n + ' ' + L_.checkins; },
        marker: function (i) { return circle(this.latlngs[i], C.checkin, 5, d.tips[i]); }};
    }
  };

  // ---- legend and layer control ----
  var legend = legendControl(map);
  var overlays = {};
  cfg.layers.forEach(function (entry) {
    overlays[entry.label] = groups[entry.group];
    if (entry.on) groups[entry.group].addTo(map);
  });
  L.control.layers(null, overlays, {collapsed: true, position: 'topright'}).addTo(map);
  gw.baseMs = performance.now() - started;  // read by the benchmark

  // ---- live data ----
  gw.update = function (d) {
    var updateStarted = performance.now();
    var g = gw.grid = d.grid;
    gw.selected = d.selected;
    gridLayers.forEach(function (layer, i) {
      var c = g.fill[i] < 0 ? C.noData : g.palette[g.fill[i]];
      layer.setStyle(Object.assign({fillColor: c}, gridLine(i)));
    });
    if (gw.selected >= 0) gridLayers[gw.selected].bringToFront();
    legend.getContainer().innerHTML = g.legend;
    groups.density.clearLayers();
    d.density.rings.forEach(function (ring, i) {
      L.polygon(decode(ring), {renderer: canvas, weight: 0.5, color: C.halo, fillColor: d.density.palette[d.density.cls[i]],
                               fillOpacity: 0.7}).bindTooltip(d.density.counts[i] + ' ' + L_.tickets).addTo(groups.density);
    });
    ['cameras', 'services', 'tickets', 'checkins'].forEach(function (name) {
      var set = builders[name](d[name]);
      set.d = d[name];
      set.latlngs = decode(d[name].pts);
      gw.points[name] = set;
    });
    redrawAll();
    focusGroup.clearLayers();
    if (d.focus) {
      L.circleMarker(d.focus, {radius: 16, color: C.alert, weight: 3, fill: false, interactive: false})
        .addTo(focusGroup);
    }
    gw.updateMs = performance.now() - updateStarted;
    gw.updated = (gw.updated || 0) + 1;
    map.getContainer().setAttribute('data-gw-updates', String(gw.updated));
  };
})();
