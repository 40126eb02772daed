// The web form's place picker: a tap on the map sets the pin (and the hidden lat/lon fields),
// "Use my location" asks the browser for the device's position. Without JavaScript the address
// field is the way to give the place.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("pin-map");
  const lat = document.getElementById("lat");
  const lon = document.getElementById("lon");
  if (!el || !lat || !lon || typeof L === "undefined") return;
  const start = lat.value && lon.value ? [Number(lat.value), Number(lon.value)] : [Number(el.dataset.lat), Number(el.dataset.lon)];
  const map = L.map(el).setView(start, lat.value ? 17 : 13);
  L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution }).addTo(map);
  let pin = lat.value ? L.marker(start).addTo(map) : null;
  const place = (point) => {
    lat.value = point.lat.toFixed(6);
    lon.value = point.lng.toFixed(6);
    if (pin) pin.setLatLng(point); else pin = L.marker(point).addTo(map);
  };
  map.on("click", (event) => place(event.latlng));
  const locate = document.getElementById("locate");
  if (locate && "geolocation" in navigator) {
    locate.hidden = false;
    locate.addEventListener("click", () => {
      navigator.geolocation.getCurrentPosition((position) => {
        const point = L.latLng(position.coords.latitude, position.coords.longitude);
        place(point);
        map.setView(point, 17);
      });
    });
  }
});
