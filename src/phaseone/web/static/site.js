// Small page helpers, no framework: units follow the chosen analyte, and a lab value's
// CTCAE grade is shown as it is typed (the server grades it; nothing is stored).
(function () {
  "use strict";

  function setUnits(select, unitSelect) {
    var option = select.options[select.selectedIndex];
    var units = (option.getAttribute("data-units") || "").split("|").filter(Boolean);
    var keep = unitSelect.value;
    unitSelect.innerHTML = "";
    units.forEach(function (u) {
      var o = document.createElement("option");
      o.textContent = u;
      unitSelect.appendChild(o);
    });
    if (units.indexOf(keep) >= 0) unitSelect.value = keep;
  }

  function describe(data) {
    if (data.grade === null || data.grade === undefined) {
      return data.problem ? "Cannot grade: " + data.problem : "Type a value to see its CTCAE grade.";
    }
    var text = "CTCAE v" + data.version + " grade " + data.grade;
    if (data.term) text += ": " + data.term;
    if (data.lln !== null && data.uln !== null) {
      text += " (normal " + Number(data.lln.toPrecision(3)) + "–" + Number(data.uln.toPrecision(3)) + ")";
    }
    return text;
  }

  function wire(form) {
    var base = form.getAttribute("data-grade-preview");
    var analyte = form.querySelector("[name=analyte]");
    var value = form.querySelector("[name=value]");
    var unit = form.querySelector("[name=unit]");
    var day = form.querySelector("[name=collected_on]");
    var out = form.querySelector("output");
    var timer = null;
    var asked = 0;

    function update() {
      var v = value.value.trim();
      if (!v) { out.textContent = "Type a value to see its CTCAE grade."; out.className = "preview"; return; }
      var ticket = ++asked;
      var url = base + "&analyte=" + encodeURIComponent(analyte.value) + "&value=" +
        encodeURIComponent(v) + "&unit=" + encodeURIComponent(unit.value) +
        "&on=" + encodeURIComponent(day ? day.value : "");
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (ticket !== asked) return;  // a newer keystroke has asked since
          out.textContent = describe(data);
          out.className = "preview" + (data.grade !== null && data.grade !== undefined ? " g-" + data.grade : "");
          out.setAttribute("data-grade", data.grade === null ? "" : String(data.grade));
        })
        .catch(function () { out.textContent = "The grade could not be fetched."; });
    }

    function soon() { clearTimeout(timer); timer = setTimeout(update, 150); }
    analyte.addEventListener("change", function () { setUnits(analyte, unit); soon(); });
    [value, unit, day].forEach(function (el) { if (el) el.addEventListener("input", soon); });
    unit.addEventListener("change", soon);
    setUnits(analyte, unit);
  }

  // The screening form: a lab row's units follow its analyte; "Add a row" copies a
  // table's last row with the next row number (without script, saving a draft brings a
  // spare row back).
  function wireUnits(row) {
    var source = row.querySelector("[data-unit-source]");
    var target = row.querySelector("[data-unit-target]");
    if (source && target) source.addEventListener("change", function () { setUnits(source, target); });
  }

  function renumber(row, index) {
    row.querySelectorAll("[name]").forEach(function (el) {
      el.name = el.name.replace(/\[\d+\]/, "[" + index + "]");
      if (el.id) el.id = el.id.replace(/-\d+(-|$)/, "-" + index + "$1");
      var label = el.getAttribute("aria-label");
      if (label) el.setAttribute("aria-label", label.replace(/row \d+$/, "row " + (index + 1)));
      if (el.tagName === "SELECT") el.selectedIndex = 0; else el.value = "";
    });
    var head = row.querySelector("th");
    if (head) head.textContent = String(index + 1);
  }

  function addRowButton(table) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary add-row";
    button.textContent = "Add a row";
    button.setAttribute("data-for", table.getAttribute("data-rows"));
    button.addEventListener("click", function () {
      var body = table.tBodies[0];
      var last = body.rows[body.rows.length - 1];
      var copy = last.cloneNode(true);
      renumber(copy, body.rows.length);
      body.appendChild(copy);
      wireUnits(copy);
      var first = copy.querySelector("[name]");
      if (first) first.focus();
    });
    table.parentNode.parentNode.appendChild(button);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-grade-preview]").forEach(wire);
    document.querySelectorAll("table[data-rows]").forEach(function (table) {
      Array.prototype.forEach.call(table.tBodies[0].rows, wireUnits);
      addRowButton(table);
    });
  });
})();

// Repeatable rows (lesions, marrow samples): "add" copies the last row with the next index
// and empty values. Without script the form still offers its first rows.
(function () {
  "use strict";

  function addRow(button) {
    var body = document.querySelector("[data-rows='" + button.getAttribute("data-add-row") + "']");
    if (!body || !body.lastElementChild) return;
    var last = body.lastElementChild;
    var index = body.children.length;
    var row = last.cloneNode(true);
    row.querySelectorAll("input, select, label").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v) el.setAttribute(attr, v.replace(/([.-])\d+([.-])/, "$1" + index + "$2"));
      });
      if (el.tagName === "INPUT") {
        if (el.type === "checkbox") el.checked = false; else el.value = "";
      } else if (el.tagName === "SELECT") {
        el.selectedIndex = 0;
      }
    });
    body.appendChild(row);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-add-row]").forEach(function (b) {
      b.addEventListener("click", function () { addRow(b); });
    });
  });
})();
