(function () {
  "use strict";
  var last = null;
  function jump(mark) {
    var target = document.getElementById(mark.getAttribute("data-target"));
    if (!target) return;
    if (last) last.classList.remove("flash");
    target.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
    target.classList.add("flash");
    last = target;
  }
  document.addEventListener("click", function (event) {
    var mark = event.target.closest ? event.target.closest("mark[data-target]") : null;
    if (mark) jump(mark);
  });
  document.addEventListener("keydown", function (event) {
    var mark = event.target;
    if ((event.key === "Enter" || event.key === " ") && mark.matches && mark.matches("mark[data-target]")) {
      event.preventDefault();
      jump(mark);
    }
  });
})();
