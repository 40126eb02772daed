// Draws the orders of a page on a Leaflet map (vendored under /assets/vendor), clustered when
// the marker-cluster plugin is loaded. Without JavaScript, or when tiles cannot load, the page
// still has the list below the map and the coordinates of every order.
"use strict";
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
  const layer = typeof L.markerClusterGroup === "function" ? L.markerClusterGroup() : L.layerGroup();
  const bounds = [];
  for (const m of markers) {
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
