// The write form without this works the same: the server checks everything. With it, the
// category list shows only the chosen line's categories and the enterprise name is asked for
// only on 省长直通车.
(function () {
  var form = document.querySelector(".letter-form");
  if (!form) return;
  var category = form.querySelector("#category");
  var enterprise = document.getElementById("enterprise-field");

  function chosenLine() {
    var checked = form.querySelector("input[name=line]:checked");
    return checked ? checked.value : "board";
  }

  function update() {
    var line = chosenLine();
    Array.prototype.forEach.call(category.querySelectorAll("optgroup"), function (group) {
      var mine = group.getAttribute("data-line") === line;
      group.hidden = !mine;
      group.disabled = !mine;
    });
    var selected = category.options[category.selectedIndex];
    if (selected && selected.getAttribute("data-line") && selected.getAttribute("data-line") !== line) {
      category.value = "";
    }
    enterprise.hidden = line !== "zhitongche";
  }

  Array.prototype.forEach.call(form.querySelectorAll("input[name=line]"), function (radio) {
    radio.addEventListener("change", update);
  });
  update();
})();
