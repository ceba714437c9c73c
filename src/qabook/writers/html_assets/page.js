/* qabook study page: search, expand/collapse, contents. Plain JavaScript, no network. */
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll("details.qa"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.sec"));
  var input = document.getElementById("search");
  var shown = document.getElementById("shown");
  var nothing = document.getElementById("nothing");
  var tocBox = document.getElementById("toc-box");
  var total = items.length;

  function fold(text) {
    var s = text.toLowerCase();
    if (s.normalize) { s = s.normalize("NFKD").replace(/[\u0300-\u036f]/g, ""); }
    return s.replace(/\s+/g, " ");
  }

  var texts = null; /* built on the first search: reading 1,000 answers costs nothing until then */
  function haystack(i) {
    if (texts === null) { texts = items.map(function (d) { return fold(d.textContent); }); }
    return texts[i];
  }

  function filter() {
    var words = fold(input.value).split(" ").filter(function (w) { return w.length > 0; });
    var count = 0;
    items.forEach(function (d, i) {
      var ok = true;
      for (var k = 0; k < words.length && ok; k++) { ok = haystack(i).indexOf(words[k]) !== -1; }
      d.hidden = !ok;
      if (ok) { count++; }
    });
    sections.forEach(function (s) {
      var visible = s.querySelector("details.qa:not([hidden])") !== null;
      s.hidden = !visible;
      var entry = document.querySelector('#toc li[data-section="' + s.id + '"]');
      if (entry) { entry.hidden = !visible; }
    });
    shown.textContent = count + " of " + total;
    nothing.hidden = count !== 0;
  }

  var pending = 0;
  input.addEventListener("input", function () {
    clearTimeout(pending);
    pending = setTimeout(filter, total > 2000 ? 120 : 0);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { input.value = ""; filter(); }
  });

  function setAll(open) {
    items.forEach(function (d) { if (!d.hidden) { d.open = open; } });
  }
  document.getElementById("expand").addEventListener("click", function () { setAll(true); });
  document.getElementById("collapse").addEventListener("click", function () { setAll(false); });

  /* a link to #q12 opens that answer */
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    if (el && el.tagName === "DETAILS") { el.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  /* on a phone the contents start folded */
  if (tocBox && window.matchMedia && window.matchMedia("(max-width: 50rem)").matches) { tocBox.open = false; }

  /* printing shows every answer, then puts things back */
  var before = null;
  window.addEventListener("beforeprint", function () {
    before = items.map(function (d) { return d.open; });
    items.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    if (before) { items.forEach(function (d, i) { d.open = before[i]; }); before = null; }
  });

  /* "/" focuses the search box, as on many sites */
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement !== input) { e.preventDefault(); input.focus(); }
  });
})();
