// Calore dashboards: draws every chart of the page from its options, which
// the server writes as JSON data (<script type="application/json">, never
// run); charts follow their card's width (phone rotation, window resize).
// The page's Content-Security-Policy allows no inline script or style, so
// this file is the only code, and sizes are set through the CSSOM.
(function () {
  "use strict";

  function draw() {
    document.querySelectorAll("div.item[data-options]").forEach(function (el) {
      var src = document.getElementById(el.getAttribute("data-options"));
      if (!src || echarts.getInstanceByDom(el)) { return; }
      var option;
      try {
        option = JSON.parse(src.textContent);
      } catch (e) {
        console.error("calore: chart " + el.id + ": options are not JSON", e);
        return;
      }
      // HTML tooltips are built with style attributes, which the CSP
      // refuses: ECharts draws them on the canvas instead.
      if (option.tooltip) { option.tooltip.renderMode = "richText"; }
      el.style.width = "100%";
      el.style.height = el.getAttribute("data-height") || "300px";
      var chart = echarts.init(el, el.getAttribute("data-theme") || null,
        { renderer: el.getAttribute("data-renderer") || "canvas" });
      chart.setOption(option);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }

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
