// Service order list: "select all" ticks every Done order's box on the page.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", () => {
    document.querySelectorAll("input.pick").forEach((box) => { box.checked = all.checked; });
  });
});
