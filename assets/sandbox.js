// The sandbox simulator page: plays a citizen writing to Meldeweg on WhatsApp.
// Sends through /sandbox/api/* (the same storage path as the real webhook) and long-polls
// /sandbox/api/chat for the conversation. The simulated number lives in localStorage only.
"use strict";

const KEY = "meldeweg.sandbox.citizen";
const $ = (id) => document.getElementById(id);
const STATE_LABEL = { queued: "wird gesendet …", sent: "✓ gesendet", delivered: "✓✓ zugestellt", read: "✓✓ gelesen",
  failed: "⚠ fehlgeschlagen", undeliverable: "⚠ nicht zustellbar", suppressed: "⏸ nicht gesendet (STOP)" };

let citizen = load();
let known = null;
let pollGeneration = 0;
const localPhotos = [];
// The place picker: a map drawn from the town's own files, created when first opened.
let pickMap = null;
let pickPin = null;
let pickedAddress = null;

// Message text with its web addresses as links (the status page link in an acknowledgement).
function withLinks(text) {
  const fragment = document.createDocumentFragment();
  const parts = text.split(/(https?:\/\/[^\s<>"]*[^\s<>".,;:!?)])/);
  parts.forEach((part, i) => {
    if (i % 2 === 0) { fragment.append(part); return; }
    const link = document.createElement("a");
    link.href = part;
    link.textContent = part;
    link.target = "_blank";
    link.rel = "noopener";
    fragment.append(link);
  });
  return fragment;
}

function randomNumber() {
  let digits = "49151";
  for (let i = 0; i < 8; i++) digits += Math.floor(Math.random() * 10);
  return digits;
}

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY));
    if (saved && /^[0-9]{6,15}$/.test(saved.from) && saved.userId) return saved;
  } catch (_) { /* start fresh */ }
  return fresh();
}

function fresh() {
  const c = { from: randomNumber(), userId: "DE.sandbox." + Math.random().toString(36).slice(2, 10), hide: false };
  localStorage.setItem(KEY, JSON.stringify(c));
  return c;
}

function identity() {
  return citizen.hide ? { user_id: citizen.userId } : { from: citizen.from, user_id: citizen.userId };
}

function showIdentity() {
  $("from").value = citizen.from;
  $("from").disabled = citizen.hide;
  $("hide-number").checked = citizen.hide;
  $("who").textContent = citizen.hide ? "Sie schreiben ohne Nummer" : "Sie schreiben als +" + citizen.from;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function post(url, body, headers) {
  const response = await fetch(url, { method: "POST", headers, body });
  if (!response.ok) {
    let reason = response.statusText;
    try { reason = (await response.json()).error || reason; } catch (_) { /* keep status text */ }
    throw new Error(reason);
  }
  return response.json();
}

async function send(payload) {
  showError("");
  try {
    await post("/sandbox/api/messages", JSON.stringify({ ...identity(), ...payload }), { "content-type": "application/json" });
    restartPolling();
  } catch (error) {
    showError("Nicht gesendet: " + error.message);
  }
}

function render(chat) {
  const list = $("chat");
  list.replaceChildren();
  if (chat.items.length === 0) {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = "Noch keine Nachrichten. Schreiben Sie, was kaputt ist.";
    list.append(empty);
  }
  let photoIndex = 0;
  for (const item of chat.items) {
    const li = document.createElement("li");
    li.className = `bubble ${item.direction} ${item.state || ""}`;
    if (item.kind === "image" && localPhotos[photoIndex]) {
      const img = document.createElement("img");
      img.src = localPhotos[photoIndex];
      img.alt = "Ihr Foto";
      li.append(img);
    }
    if (item.kind === "image") photoIndex++;
    if (item.photo) {
      const img = document.createElement("img");
      img.src = item.photo;
      img.alt = "Foto vom Bauhof";
      li.append(img);
    }
    li.append(withLinks(item.text));
    if (item.kind === "buttons" || item.kind === "list") {
      const choices = document.createElement("div");
      choices.className = "choices";
      for (const choice of item.choices || []) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "action";
        button.textContent = choice.title;
        if (choice.description) button.title = choice.description;
        button.addEventListener("click", () =>
          send({ kind: "choice", id: choice.id, title: choice.title, list: item.kind === "list" }));
        choices.append(button);
      }
      li.append(choices);
    }
    if (item.kind === "location_request") {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "action";
      button.textContent = "📍 Standort senden";
      button.addEventListener("click", openLocation);
      li.append(button);
    }
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = item.at.slice(-5) + (item.state ? " · " + (STATE_LABEL[item.state] || item.state) : "");
    li.append(meta);
    list.append(li);
  }
  list.scrollTop = list.scrollHeight;
}

// Sets the place to share: the form's fields, the pin on the map and the line under it.
function pick(lat, lon, name, address) {
  $("lat").value = lat.toFixed(6);
  $("lon").value = lon.toFixed(6);
  $("place-name").value = name || "";
  pickedAddress = address || null;
  const point = [lat, lon];
  if (pickMap) {
    if (pickPin) pickPin.setLatLng(point);
    else pickPin = L.circleMarker(point, { radius: 10, color: "#ffffff", weight: 3, fillColor: "#c0392b", fillOpacity: 1 }).addTo(pickMap);
    pickMap.setView(point, Math.max(pickMap.getZoom(), 16));
  }
  $("picked").textContent = "Gewählt: " + (name || address || "Punkt auf der Karte") + " (" + lat.toFixed(5) + ", " + lon.toFixed(5) + ")";
}

function restartPolling() {
  known = null;
  poll(++pollGeneration);
}

async function poll(generation) {
  while (generation === pollGeneration) {
    try {
      const chat = await post("/sandbox/api/chat", JSON.stringify({ ...identity(), known }), { "content-type": "application/json" });
      if (generation !== pollGeneration) return;
      if (chat.fingerprint !== known) {
        known = chat.fingerprint;
        render(chat);
      }
    } catch (error) {
      showError("Verbindung zum Server unterbrochen: " + error.message);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function openLocation() {
  $("location-form").hidden = false;
  const el = $("pick-map");
  if (!pickMap && el && typeof L !== "undefined") {
    pickMap = L.map(el).setView([Number(el.dataset.lat), Number(el.dataset.lon)], 14);
    if (window.meldewegBasemap) window.meldewegBasemap(pickMap, el);
    pickMap.on("click", (event) => pick(event.latlng.lat, event.latlng.lng));
  } else if (pickMap) {
    pickMap.invalidateSize();
  }
  $("location-form").scrollIntoView({ block: "nearest" });
  const first = document.querySelector(".presets button");
  if (first) first.focus();
}

function setup() {
  showIdentity();
  $("identity").addEventListener("submit", (e) => e.preventDefault());
  $("from").addEventListener("change", () => {
    if (!/^[0-9]{6,15}$/.test($("from").value)) {
      showError("Die Nummer braucht 6 bis 15 Ziffern, z. B. 4915112345678.");
      return;
    }
    citizen.from = $("from").value;
    localStorage.setItem(KEY, JSON.stringify(citizen));
    showIdentity();
    restartPolling();
  });
  $("hide-number").addEventListener("change", () => {
    citizen.hide = $("hide-number").checked;
    localStorage.setItem(KEY, JSON.stringify(citizen));
    showIdentity();
    restartPolling();
  });
  $("new-person").addEventListener("click", () => {
    citizen = fresh();
    localPhotos.length = 0;
    showIdentity();
    restartPolling();
  });
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    $("text").value = "";
    send({ kind: "text", text });
  });
  $("share-location").addEventListener("click", openLocation);
  $("cancel-location").addEventListener("click", () => { $("location-form").hidden = true; });
  for (const preset of document.querySelectorAll(".presets button[data-lat]")) {
    preset.addEventListener("click", () =>
      pick(Number(preset.dataset.lat), Number(preset.dataset.lon), preset.dataset.name, preset.dataset.address));
  }
  $("here").addEventListener("click", () => {
    if (!navigator.geolocation) { showError("Dieser Browser kennt keinen Standort."); return; }
    navigator.geolocation.getCurrentPosition(
      (p) => pick(p.coords.latitude, p.coords.longitude),
      () => showError("Der Browser hat den Standort nicht freigegeben."));
  });
  $("location-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if ($("lat").value === "" || $("lon").value === "") {
      showError("Bitte tippen Sie auf die Karte oder wählen Sie einen Ort.");
      return;
    }
    const lat = Number($("lat").value), lon = Number($("lon").value);
    $("location-form").hidden = true;
    send({ kind: "location", lat, lon, name: $("place-name").value || null, address: pickedAddress });
  });
  $("attach").addEventListener("click", () => $("photo").click());
  $("photo").addEventListener("change", async () => {
    const file = $("photo").files[0];
    $("photo").value = "";
    if (!file) return;
    const maxBytes = Number(document.body.dataset.maxPhotoBytes);
    if (file.size > maxBytes) {
      showError(`Fotos dürfen höchstens ${Math.floor(maxBytes / 1048576)} MB groß sein.`);
      return;
    }
    const caption = $("text").value.trim();
    $("text").value = "";
    const headers = { "content-type": file.type || "application/octet-stream" };
    if (citizen.hide) headers["x-sandbox-user-id"] = citizen.userId;
    else { headers["x-sandbox-from"] = citizen.from; headers["x-sandbox-user-id"] = citizen.userId; }
    if (caption) headers["x-sandbox-caption"] = btoa(String.fromCharCode(...new TextEncoder().encode(caption)));
    try {
      showError("");
      await post("/sandbox/api/photo", file, headers);
      localPhotos.push(URL.createObjectURL(file));
      restartPolling();
    } catch (error) {
      showError("Foto nicht gesendet: " + error.message);
    }
  });
  restartPolling();
}

document.addEventListener("DOMContentLoaded", setup);
