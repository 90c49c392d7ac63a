// Searchable selects for the setup wizard. Without JavaScript the selects work as they are.
(function () {
  "use strict";
  document.querySelectorAll("select[data-searchable]").forEach(function (select) {
    var input = document.createElement("input");
    input.type = "search";
    input.className = "select-search";
    input.placeholder = "Type to filter the list";
    input.setAttribute("aria-label", "Filter the choices of " + (select.labels[0] ? select.labels[0].textContent : "this list"));
    select.parentNode.insertBefore(input, select);
    var options = Array.prototype.slice.call(select.options);
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      options.forEach(function (o) {
        var keep = !q || o.value === "" || o.selected || o.text.toLowerCase().indexOf(q) !== -1;
        o.hidden = !keep;
        o.disabled = !keep;
      });
    });
  });
})();
