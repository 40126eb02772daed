// Draws the orders of a page on a Leaflet map (vendored under /assets/vendor), clustered when
// the marker-cluster plugin is loaded. Without JavaScript, or when tiles cannot load, the page
// still has the list below the map and the coordinates of every order.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) button.addEventListener("click", () => print());
});
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("map");
  if (!el || typeof L === "undefined") return;
  let markers = [];
  try { markers = JSON.parse(el.dataset.markers || "[]"); } catch (_) { return; }
  el.replaceChildren();
  const centre = [Number(el.dataset.lat), Number(el.dataset.lon)];
  const map = L.map(el).setView(centre, Number(el.dataset.zoom || 13));
  const tiles = L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution });
  let failed = false;
  tiles.on("tileerror", () => {
    if (failed) return;
    failed = true;
    const note = document.createElement("p");
    note.className = "notice";
    note.textContent = document.documentElement.lang === "en"
      ? "Map tiles cannot be loaded; the markers and the list still work."
      : "Kartenkacheln können nicht geladen werden; Markierungen und Liste funktionieren weiter.";
    el.after(note);
  });
  tiles.addTo(map);
  const hotspots = el.dataset.hotspots === "1";
  // Hotspot cells carry a count of reports: clusters add the counts up.
  const clusterOptions = hotspots ? {
    iconCreateFunction: (cluster) => {
      const reports = cluster.getAllChildMarkers().reduce((sum, m) => sum + (m.options.reports || 0), 0);
      return L.divIcon({ html: "<div><span>" + reports + "</span></div>", className: "marker-cluster marker-cluster-medium", iconSize: L.point(40, 40) });
    },
  } : {};
  const layer = typeof L.markerClusterGroup === "function" ? L.markerClusterGroup(clusterOptions) : L.layerGroup();
  const bounds = [];
  for (const m of markers) {
    if (hotspots) {
      const icon = L.divIcon({ html: "<div><span>" + Number(m.count) + "</span></div>", className: "marker-cluster marker-cluster-small", iconSize: L.point(32, 32) });
      layer.addLayer(L.marker([m.lat, m.lon], { icon, reports: Number(m.count), keyboard: false }));
      bounds.push([m.lat, m.lon]);
      continue;
    }
    const marker = L.marker([m.lat, m.lon], { title: m.number, keyboard: true });
    const link = document.createElement("a");
    link.href = "/staff/orders/" + encodeURIComponent(m.number);
    link.textContent = [m.number, m.category, m.place].filter(Boolean).join(" · ");
    marker.bindPopup(link);
    layer.addLayer(marker);
    bounds.push([m.lat, m.lon]);
  }
  layer.addTo(map);
  if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
});
