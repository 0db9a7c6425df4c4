// Invoice list: "select all" for the drafts' checkboxes, and "Post selected" only when something is ticked.
(function () {
  "use strict";
  const form = document.getElementById("batch-post");
  if (!form) return;
  const all = form.querySelector("[data-select-all]");
  const boxes = () => form.querySelectorAll("input[name=ids]");
  const button = form.querySelector("[data-needs-selection]");
  function update() {
    if (button) button.disabled = ![...boxes()].some((b) => b.checked);
  }
  if (all) all.addEventListener("change", () => { boxes().forEach((b) => { b.checked = all.checked; }); update(); });
  form.addEventListener("change", update);
  update();
})();
