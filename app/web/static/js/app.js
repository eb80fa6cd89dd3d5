// The upload page: send the text area's content or a chosen (or dropped) file with a progress
// bar and a Cancel button, show the link, offer copy and delete.
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  var text = document.getElementById("upload-textarea");
  var expires = document.getElementById("expires");
  var button = document.getElementById("upload");
  var result = document.getElementById("result-box");
  var link = document.getElementById("paste-link");
  var copy = document.getElementById("copy-button");
  var del = document.getElementById("delete-link");
  var error = document.getElementById("error");
  var fileInput = document.getElementById("file-input");
  var fileButton = document.getElementById("file-button");
  var fileRow = document.getElementById("file-row");
  var fileName = document.getElementById("file-name");
  var fileSize = document.getElementById("file-size");
  var fileClear = document.getElementById("file-clear");
  var progressRow = document.getElementById("progress-row");
  var progress = document.getElementById("progress");
  var progressText = document.getElementById("progress-text");
  var cancel = document.getElementById("cancel");
  var dropHint = document.getElementById("drop-hint");

  var maxBytes = Number(form.dataset.maxBytes);
  var chosen = null; // the File to upload instead of the text
  var typed = ""; // the text, kept while a file's preview fills the text area
  var request = null; // the upload in flight

  function showError(msg) {
    error.textContent = msg;
    error.hidden = false;
  }

  // formatSize says a byte count the way the server's messages do.
  function formatSize(n) {
    if (n < 1024) {
      return n + (n === 1 ? " byte" : " bytes");
    }
    if (n < 1024 * 1024) {
      return (n / 1024).toFixed(1) + " KiB";
    }
    return (n / (1024 * 1024)).toFixed(1) + " MiB";
  }

  // choose takes a file for the next upload, or refuses it in the server's words when it is
  // over the limit; the text area shows the file's first lines, read-only.
  function choose(file) {
    error.hidden = true;
    if (file.size > maxBytes) {
      showError(form.dataset.tooLarge);
      return;
    }
    if (!chosen) {
      typed = text.value;
    }
    chosen = file;
    fileName.textContent = file.name;
    fileSize.textContent = formatSize(file.size);
    fileRow.hidden = false;
    text.readOnly = true;
    text.classList.add("preview");
    text.value = "";
    file.slice(0, 16384).text().then(function (head) {
      if (chosen === file) {
        text.value = head;
      }
    });
  }

  function unchoose() {
    chosen = null;
    fileInput.value = "";
    fileRow.hidden = true;
    text.readOnly = false;
    text.classList.remove("preview");
    text.value = typed;
  }

  fileButton.addEventListener("click", function () {
    fileInput.click();
  });
  fileInput.addEventListener("change", function () {
    if (fileInput.files.length > 0) {
      choose(fileInput.files[0]);
    }
  });
  fileClear.addEventListener("click", function () {
    unchoose();
    text.focus();
  });

  // A file dropped anywhere on the page is chosen; dropped text still lands in the text area.
  function carriesFiles(ev) {
    return ev.dataTransfer && Array.prototype.indexOf.call(ev.dataTransfer.types, "Files") >= 0;
  }
  document.addEventListener("dragover", function (ev) {
    if (carriesFiles(ev)) {
      ev.preventDefault();
      ev.dataTransfer.dropEffect = "copy";
      dropHint.hidden = false;
    }
  });
  document.addEventListener("dragleave", function (ev) {
    if (ev.relatedTarget === null) {
      dropHint.hidden = true;
    }
  });
  document.addEventListener("drop", function (ev) {
    dropHint.hidden = true;
    if (carriesFiles(ev)) {
      ev.preventDefault();
      if (ev.dataTransfer.files.length > 0 && !request) {
        choose(ev.dataTransfer.files[0]);
      }
    }
  });

  function showProgress(sent, total) {
    progress.max = Math.max(total, 1);
    progress.value = sent;
    progressText.textContent = formatSize(sent) + " of " + formatSize(total) + " sent";
  }

  function finished() {
    request = null;
    progressRow.hidden = true;
    button.disabled = false;
  }

  // XMLHttpRequest rather than fetch: only it reports the bytes sent. Text and files take the
  // same PUT, so the limit, the expiry and the delete link work the same for both.
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (request) {
      return;
    }
    error.hidden = true;
    result.hidden = true;
    if (chosen && chosen.size > maxBytes) {
      showError(form.dataset.tooLarge);
      return;
    }
    // Empty and oversize texts go to the server too: its message is the one rule.
    var body = chosen || text.value;
    var xhr = new XMLHttpRequest();
    request = xhr;
    xhr.open("PUT", "/?expires=" + encodeURIComponent(expires ? expires.value : "never"));
    xhr.upload.addEventListener("progress", function (p) {
      showProgress(p.loaded, p.total);
    });
    xhr.addEventListener("load", function () {
      finished();
      if (xhr.status !== 200) {
        showError(xhr.responseText.trim() || "Upload failed (" + xhr.status + ").");
        return;
      }
      var data = JSON.parse(xhr.responseText);
      link.href = data.url;
      link.textContent = data.url;
      del.href = "/delete/" + data.id + "#token=" + encodeURIComponent(data.deleteToken);
      result.hidden = false;
      copy.textContent = "Copy";
    });
    xhr.addEventListener("error", function () {
      finished();
      showError("Upload failed: the server could not be reached.");
    });
    xhr.addEventListener("abort", function () {
      finished();
      showError("Upload cancelled.");
    });
    button.disabled = true;
    showProgress(0, chosen ? chosen.size : new Blob([body]).size);
    progressRow.hidden = false;
    xhr.send(body);
  });

  cancel.addEventListener("click", function () {
    if (request) {
      request.abort();
    }
  });

  // selectLink is the way out when the clipboard is out of reach: the user copies by hand.
  function selectLink(hint) {
    var range = document.createRange();
    range.selectNodeContents(link);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    showError(hint);
  }

  copy.addEventListener("click", function () {
    error.hidden = true;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(link.href).then(
        function () {
          copy.textContent = "Copied";
        },
        function () {
          selectLink("Could not copy: the link is selected, press Ctrl+C.");
        }
      );
      return;
    }
    selectLink("Copying needs HTTPS here: the link is selected, press Ctrl+C.");
  });
})();
