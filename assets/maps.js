// Meldeweg's maps, on Leaflet (vendored under /assets/vendor). The background is drawn from the
// municipality's own files, which Meldeweg serves at /karte/grundlage.geojson (boundary,
// districts, streets with their names); a tile server is added underneath only when the
// municipality configured one (data-tiles). Nothing is loaded from another host by default.
// Markers are coloured by status and sized by priority, with a legend on the page. Without
// JavaScript every page that has a map also has the list it is drawn from.
"use strict";
(() => {
  const STATUS_COLOURS = { open: "#c0392b", accepted: "#b9770e", in_progress: "#1f618d", done: "#1e8449" };
  const RADIUS = { urgent: 12, high: 10 };
  const english = () => document.documentElement.lang === "en";

  // The background under `map`; `el` is the map's element with its data attributes.
  function basemap(map, el) {
    map.attributionControl.setPrefix(false);
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    const pane = map.createPane("basemap");
    pane.style.zIndex = 250;
    pane.style.pointerEvents = "none";
    const labels = L.layerGroup();
    return fetch("/karte/grundlage.geojson")
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))))
      .then((data) => {
        const of = (kind) => ({ type: "FeatureCollection", features: data.features.filter((f) => f.properties.kind === kind) });
        const draw = (kind, style) => L.geoJSON(of(kind), { pane: "basemap", interactive: false, style }).addTo(map);
        const inside = el.dataset.tiles ? 0.35 : 1;
        draw("boundary", { color: "#6b6251", weight: 2, dashArray: "6 4", fillColor: "#f8f6f1", fillOpacity: inside });
        draw("district", { color: "#b5ab97", weight: 1, fill: false });
        draw("street", { color: "#a89f8c", weight: 9, lineCap: "round", lineJoin: "round" });
        draw("street", { color: "#ffffff", weight: 6, lineCap: "round", lineJoin: "round" });
        for (const street of of("street").features) {
          const lines = street.geometry.coordinates;
          const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), []);
          if (longest.length === 0 || !street.properties.name) continue;
          const middle = longest[Math.floor(longest.length / 2)];
          labels.addLayer(L.tooltip({ permanent: true, direction: "center", className: "street-name", interactive: false })
            .setLatLng([middle[1], middle[0]]).setContent(street.properties.name));
        }
        const showLabels = () => (map.getZoom() >= 15 ? labels.addTo(map) : labels.remove());
        map.on("zoomend", showLabels);
        showLabels();
      })
      .catch(() => {
        const note = document.createElement("p");
        note.className = "notice";
        note.textContent = english()
          ? "The map background cannot be loaded; the markers and the list still work."
          : "Der Kartenhintergrund kann nicht geladen werden; Markierungen und Liste funktionieren weiter.";
        el.after(note);
      });
  }

  // A marker for an order or report: `m.status`, `m.priority` (optional).
  function marker(m, title) {
    return L.circleMarker([m.lat, m.lon], {
      radius: RADIUS[m.priority] || 8,
      color: m.priority === "urgent" || m.priority === "high" ? "#1b1b1b" : "#ffffff",
      weight: m.priority === "urgent" ? 3 : 2,
      fillColor: STATUS_COLOURS[m.status] || "#6c6c6c",
      fillOpacity: 0.95,
      title,
    });
  }

  function popup(m, staff) {
    const box = document.createElement("div");
    box.className = "popup";
    const heading = document.createElement(staff ? "a" : "strong");
    if (staff) heading.href = "/staff/orders/" + encodeURIComponent(m.number);
    heading.textContent = [m.number, m.category].filter(Boolean).join(" · ");
    box.append(heading);
    for (const line of [m.status_label, m.place, m.reported]) {
      if (!line) continue;
      const p = document.createElement("p");
      p.textContent = line;
      box.append(p);
    }
    if (m.photo) {
      const img = document.createElement("img");
      img.src = "/photos/" + encodeURIComponent(m.photo) + "/thumb";
      img.alt = english() ? "Photo (faces and number plates obscured)" : "Foto (Gesichter und Kennzeichen unkenntlich)";
      img.width = 160;
      box.append(img);
    }
    return box;
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("[data-print]")) button.addEventListener("click", () => print());
    const el = document.getElementById("map");
    if (!el || typeof L === "undefined") return;
    let markers = [];
    try { markers = JSON.parse(el.dataset.markers || "[]"); } catch (_) { return; }
    el.replaceChildren();
    const centre = [Number(el.dataset.lat), Number(el.dataset.lon)];
    const map = L.map(el).setView(centre, Number(el.dataset.zoom || 14));
    basemap(map, el);
    const staff = el.dataset.staff === "1";
    const hotspots = el.dataset.hotspots === "1";
    // Hotspot cells carry a count of reports: clusters add the counts up.
    const clusterOptions = hotspots ? {
      iconCreateFunction: (cluster) => {
        const reports = cluster.getAllChildMarkers().reduce((sum, m) => sum + (m.options.reports || 0), 0);
        return L.divIcon({ html: "<div><span>" + reports + "</span></div>", className: "marker-cluster marker-cluster-medium", iconSize: L.point(40, 40) });
      },
    } : { maxClusterRadius: 40 };
    const layer = typeof L.markerClusterGroup === "function" && (hotspots || markers.length > 30) ? L.markerClusterGroup(clusterOptions) : L.layerGroup();
    const bounds = [];
    for (const m of markers) {
      if (hotspots) {
        const icon = L.divIcon({ html: "<div><span>" + Number(m.count) + "</span></div>", className: "marker-cluster marker-cluster-small", iconSize: L.point(32, 32) });
        layer.addLayer(L.marker([m.lat, m.lon], { icon, reports: Number(m.count), keyboard: false }));
      } else {
        layer.addLayer(marker(m, m.number || m.category).bindPopup(popup(m, staff)));
      }
      bounds.push([m.lat, m.lon]);
    }
    layer.addTo(map);
    if (bounds.length > 1 && el.dataset.fit !== "0") map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
  });

  window.meldewegBasemap = basemap;
})();
