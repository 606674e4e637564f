// The write form without this works the same: the server checks everything. With it, the
// category list holds only the chosen line's categories and the enterprise name is asked for
// only on 省长直通车.
(function () {
  var form = document.querySelector(".letter-form");
  if (!form) return;
  var category = form.querySelector("#category");
  var enterprise = document.getElementById("enterprise-field");
  // Keep every line's group aside; the list shows one group at a time.
  var groups = Array.prototype.slice.call(category.querySelectorAll("optgroup"));

  function chosenLine() {
    var checked = form.querySelector("input[name=line]:checked");
    return checked ? checked.value : "board";
  }

  function update() {
    var line = chosenLine();
    var value = category.value;
    var selectedLine = category.selectedIndex > 0 ?
      category.options[category.selectedIndex].getAttribute("data-line") : null;
    groups.forEach(function (group) {
      if (group.parentNode) group.parentNode.removeChild(group);
    });
    groups.forEach(function (group) {
      if (group.getAttribute("data-line") === line) category.appendChild(group);
    });
    category.value = selectedLine === line ? value : "";
    enterprise.hidden = line !== "zhitongche";
  }

  Array.prototype.forEach.call(form.querySelectorAll("input[name=line]"), function (radio) {
    radio.addEventListener("change", update);
  });
  update();
})();
