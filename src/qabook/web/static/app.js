/* qabook serve: the upload form's drop zone and upload progress. The form works without this
   script (a plain multipart POST); with it, the file is sent by XMLHttpRequest so the page can
   show how far the upload is, and errors appear without leaving the page. */
(function () {
  "use strict";
  // the result page: "All" and "None" for the section check boxes
  var list = document.querySelector(".sections .section-list");
  if (list) {
    var bar = document.createElement("div");
    bar.className = "all-none";
    [["All", true], ["None", false]].forEach(function (spec) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "plain";
      b.textContent = spec[0];
      b.setAttribute("aria-label", (spec[1] ? "Tick" : "Untick") + " every section");
      b.addEventListener("click", function () {
        list.querySelectorAll("input[type=checkbox]").forEach(function (box) { box.checked = spec[1]; });
      });
      bar.appendChild(b);
    });
    list.parentNode.insertBefore(bar, list);
  }
}());

(function () {
  "use strict";
  var form = document.getElementById("upload");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var input = document.getElementById("file");
  var drop = document.getElementById("drop");
  var chosen = document.getElementById("chosen");
  var text = document.getElementById("text");
  var progress = document.getElementById("progress");
  var bar = document.getElementById("bar");
  var statusText = document.getElementById("status");
  var errorBox = document.getElementById("error");
  var button = document.getElementById("go");
  var max = parseInt(form.getAttribute("data-max"), 10) || 0;
  var maxText = form.getAttribute("data-max-text") || "";

  function size(n) {
    var units = ["bytes", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0).replace(/\.0$/, "")) + " " + units[i];
  }

  function showError(title, message) {
    errorBox.textContent = "";
    var h = document.createElement("h2");
    h.textContent = title;
    var p = document.createElement("p");
    p.textContent = message;
    errorBox.appendChild(h);
    errorBox.appendChild(p);
    errorBox.hidden = false;
    errorBox.focus();
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  function busy(on) {
    button.disabled = on;
    progress.hidden = !on;
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  function describe() {
    var f = input.files && input.files[0];
    if (f) {
      chosen.textContent = "Chosen: " + f.name + " (" + size(f.size) + ")";
      chosen.hidden = false;
    } else {
      chosen.textContent = "";
      chosen.hidden = true;
    }
  }

  input.addEventListener("change", function () { clearError(); describe(); });

  function over(event) {
    event.preventDefault();
    if (event.dataTransfer) { event.dataTransfer.dropEffect = "copy"; }
    drop.classList.add("over");
  }
  drop.addEventListener("dragenter", over);
  drop.addEventListener("dragover", over);
  drop.addEventListener("dragleave", function (event) {
    if (!drop.contains(event.relatedTarget)) { drop.classList.remove("over"); }
  });
  drop.addEventListener("drop", function (event) {
    event.preventDefault();
    drop.classList.remove("over");
    var files = event.dataTransfer && event.dataTransfer.files;
    if (!files || !files.length) { return; }
    clearError();
    if (files.length > 1) {
      showError("One file at a time", "qabook converts one file at a time. Drop a single file (or a ZIP export).");
      return;
    }
    input.files = files;
    describe();
  });
  // a file dropped next to the box must not make the browser open it instead of this page
  document.addEventListener("dragover", function (event) { event.preventDefault(); });
  document.addEventListener("drop", function (event) {
    if (!drop.contains(event.target)) { event.preventDefault(); }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearError();
    var f = input.files && input.files[0];
    if (f && max && f.size > max) {
      showError("Too large", "“" + f.name + "” is " + size(f.size) + "; this qabook accepts files up to " +
        maxText + ". Start it with a higher --max-upload, or use qabook convert on the command line.");
      return;
    }
    if (!f && !text.value.trim()) {
      showError("Nothing to convert", "Choose a file, drop one on the box, or paste a chat into the text box.");
      return;
    }
    var data = new FormData(form);
    if (f) { data.delete("text"); }  // the file is used; do not send the pasted text along
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) { return; }
      var pct = Math.floor(e.loaded / e.total * 100);
      bar.value = pct;
      statusText.textContent = "Uploading… " + pct + "% (" + size(e.loaded) + " of " + size(e.total) + ")";
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value");  // indeterminate while qabook reads
      statusText.textContent = "Uploaded. Finding the questions and answers…";
    });
    xhr.addEventListener("load", function () {
      var r = xhr.response;
      if (xhr.status === 200 && r && r.url) {
        statusText.textContent = "Done. Opening the result…";
        window.location.assign(r.url);
        return;
      }
      busy(false);
      showError((r && r.title) || "Something went wrong",
        (r && r.message) || ("qabook answered with status " + xhr.status + "."));
    });
    xhr.addEventListener("error", function () {
      busy(false);
      showError("No answer from qabook",
        "The connection to qabook was lost before it answered. Is qabook serve still running?");
    });
    busy(true);
    bar.value = 0;
    statusText.textContent = "Uploading…";
    xhr.send(data);
  });
}());
