// Calore dashboards: charts follow their card's width (phone rotation,
// window resize).
(function () {
  "use strict";
  var pending = 0;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      document.querySelectorAll("[_echarts_instance_]").forEach(function (el) {
        var c = echarts.getInstanceByDom(el);
        if (c) { c.resize(); }
      });
    }, 150);
  });
})();
