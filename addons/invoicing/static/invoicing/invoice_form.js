// Draft invoice form: add/remove lines, fill a line from its product, and show line and invoice totals as you
// type. Money is worked in cents and rounded half up per line, as the server does; the server's figures win.
(function () {
  "use strict";
  const form = document.getElementById("invoice-form");
  if (!form) return;
  const body = document.getElementById("lines");
  const template = document.getElementById("line-template");
  const currency = new Intl.NumberFormat("en-US", { style: "currency", currency: "EUR" });

  function parse(value) {
    const text = String(value || "").trim().replace(",", ".");
    if (!/^-?\d*(\.\d*)?$/.test(text) || text === "" || text === "-" || text === ".") return null;
    return Number(text);
  }
  function roundHalfUp(cents) { return Math.sign(cents) * Math.round(Math.abs(cents) + 1e-9); }
  function show(cents) { return currency.format(cents / 100); }

  function recompute() {
    let untaxed = 0, tax = 0;
    body.querySelectorAll("tr.line-row").forEach((row) => {
      const qty = parse(row.querySelector("[name=quantity]").value);
      const price = parse(row.querySelector("[name=unit_price]").value);
      const taxOption = row.querySelector("[name=tax_id]").selectedOptions[0];
      const rate = taxOption ? Number(taxOption.dataset.rate || 0) : 0;
      const cell = row.querySelector(".line-total");
      if (qty === null || price === null) { cell.textContent = "—"; return; }
      const lineUntaxed = roundHalfUp(qty * price * 100);
      const lineTax = roundHalfUp(lineUntaxed * rate / 100);
      untaxed += lineUntaxed; tax += lineTax;
      cell.textContent = show(lineUntaxed);
    });
    document.getElementById("total-untaxed").textContent = show(untaxed);
    document.getElementById("total-tax").textContent = show(tax);
    document.getElementById("total-total").textContent = show(untaxed + tax);
    const dateField = form.querySelector("[name=invoice_date]");
    const terms = parseInt(form.querySelector("[name=payment_terms_days]").value, 10);
    const due = document.getElementById("due-date");
    if (dateField.value && !Number.isNaN(terms)) {
      const d = new Date(dateField.value + "T00:00:00Z");
      d.setUTCDate(d.getUTCDate() + terms);
      due.textContent = d.toISOString().slice(0, 10);
    }
  }

  function fillFromProduct(select) {
    const option = select.selectedOptions[0];
    if (!option || !option.value) return;
    const row = select.closest("tr");
    const description = row.querySelector("[name=description]");
    const price = row.querySelector("[name=unit_price]");
    if (!description.value) description.value = option.dataset.description || "";
    price.value = option.dataset.price || price.value;
    row.querySelector("[name=tax_id]").value = option.dataset.tax || "";
  }

  function addLine() {
    body.appendChild(template.content.firstElementChild.cloneNode(true));
    recompute();
    const rows = body.querySelectorAll("tr.line-row");
    rows[rows.length - 1].querySelector("[name=product_id]").focus();
  }

  document.getElementById("add-line").addEventListener("click", addLine);
  body.addEventListener("click", (event) => {
    if (event.target.classList.contains("remove-line")) {
      event.target.closest("tr").remove();
      recompute();
    }
  });
  body.addEventListener("change", (event) => {
    if (event.target.name === "product_id") fillFromProduct(event.target);
    recompute();
  });
  form.addEventListener("input", recompute);
  if (!body.querySelector("tr.line-row")) addLine();
  recompute();
})();
