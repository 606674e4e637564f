// Board filters: once a line is chosen, offer only its categories.
(function () {
  var line = document.getElementById("filter-line");
  var category = document.getElementById("filter-category");
  if (!line || !category) return;
  function update() {
    Array.prototype.forEach.call(category.querySelectorAll("optgroup"), function (group) {
      var first = group.querySelector("option");
      var mine = !line.value || (first && first.getAttribute("data-line") === line.value);
      group.hidden = !mine;
      group.disabled = !mine;
    });
    var selected = category.options[category.selectedIndex];
    if (selected && selected.getAttribute("data-line") && line.value &&
        selected.getAttribute("data-line") !== line.value) {
      category.value = "";
    }
  }
  line.addEventListener("change", update);
  update();
})();
