// Photo review (staff): drag a rectangle on the original with a finger, pen or mouse, and the
// "obscure another area" form's numbers (in the photo's own pixels) are filled in. The numbers
// can always be typed instead (keyboard); the page works without this script.
"use strict";
(function () {
  const area = document.getElementById("draw-area");
  const image = document.getElementById("original");
  const box = document.getElementById("drawn-box");
  const fields = ["x", "y", "width", "height"].map((name) => document.getElementById("area-" + name));
  if (!area || !image || !box || fields.some((f) => !f)) return;
  let start = null;

  const point = (event) => {
    const rect = image.getBoundingClientRect();
    const x = Math.min(Math.max(event.clientX - rect.left, 0), rect.width);
    const y = Math.min(Math.max(event.clientY - rect.top, 0), rect.height);
    return { x, y, scale: image.naturalWidth / rect.width };
  };
  const show = (a, b) => {
    const left = Math.min(a.x, b.x), top = Math.min(a.y, b.y);
    const width = Math.abs(a.x - b.x), height = Math.abs(a.y - b.y);
    box.hidden = false;
    box.style.left = left + "px";
    box.style.top = top + "px";
    box.style.width = width + "px";
    box.style.height = height + "px";
    return [left, top, width, height].map((v) => Math.round(v * a.scale));
  };

  image.addEventListener("dragstart", (event) => event.preventDefault());
  area.addEventListener("pointerdown", (event) => {
    start = point(event);
    area.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  area.addEventListener("pointermove", (event) => {
    if (start) show(start, point(event));
  });
  area.addEventListener("pointerup", (event) => {
    if (!start) return;
    const values = show(start, point(event));
    start = null;
    if (values[2] >= 2 && values[3] >= 2) values.forEach((v, i) => (fields[i].value = v));
  });
  // Typed numbers draw the same rectangle, so the keyboard user sees what they chose.
  fields.forEach((field) =>
    field.addEventListener("input", () => {
      const [x, y, w, h] = fields.map((f) => Number(f.value) || 0);
      const scale = image.getBoundingClientRect().width / (image.naturalWidth || 1);
      show({ x: x * scale, y: y * scale, scale: 1 / scale }, { x: (x + w) * scale, y: (y + h) * scale });
    })
  );
})();
