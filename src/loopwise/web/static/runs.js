/* Loopwise runs table and comparison: small conveniences on server-rendered pages.
 *
 * Without this file the pages still work: the "Compare selected" form sends
 * ?runs=a&runs=b (the server reads both that and ?runs=a,b) and the metric picker has a
 * "Show" button. With it, the compare button says how many runs are ticked and is only
 * enabled for 2..max, the address reads /compare?runs=a,b,c, and the picker applies on
 * change. No framework, no external assets.
 */
(function () {
  "use strict";

  var form = document.getElementById("compare");
  if (form) {
    var button = document.getElementById("compare-button");
    var status = document.getElementById("compare-status");
    var max = parseInt(form.dataset.max || "20", 10);
    var boxes = function () {
      return Array.prototype.slice.call(
        document.querySelectorAll("input[type=checkbox][form=compare]")
      );
    };
    var update = function () {
      var n = boxes().filter(function (b) { return b.checked; }).length;
      button.disabled = n < 2 || n > max;
      if (n === 0) status.textContent = "Tick 2 to " + max + " runs, then compare them.";
      else if (n < 2) status.textContent = "1 run ticked; tick at least one more.";
      else if (n > max) status.textContent = n + " runs ticked; compare at most " + max + ".";
      else status.textContent = n + " runs ticked.";
    };
    boxes().forEach(function (b) { b.addEventListener("change", update); });
    form.addEventListener("submit", function (event) {
      var ids = boxes().filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
      if (ids.length < 2 || ids.length > max) { event.preventDefault(); update(); return; }
      event.preventDefault();
      window.location.assign(form.action + "?runs=" + ids.map(encodeURIComponent).join(","));
    });
    update();
  }

  document.querySelectorAll("form[data-autosubmit]").forEach(function (f) {
    var show = f.querySelector(".show");
    if (show) show.hidden = true;
    f.addEventListener("change", function () {
      if (f.requestSubmit) f.requestSubmit();
      else f.submit();
    });
  });
})();
