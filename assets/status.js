// The status page's "copy the link" button, shown after a report on the web form without an
// e-mail address. Without JavaScript (or a clipboard) the link stays on the page to copy by hand.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("copy-link");
  if (!button || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    navigator.clipboard.writeText(button.dataset.copy).then(() => { button.textContent = button.dataset.done; });
  });
});
