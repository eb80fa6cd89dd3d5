// The upload page: send the text area's content, show the link, offer copy and delete.
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

  function showError(msg) {
    error.textContent = msg;
    error.hidden = false;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    error.hidden = true;
    result.hidden = true;
    // Empty and oversize texts go to the server too: its message is the one rule.
    button.disabled = true;
    var url = "/?expires=" + encodeURIComponent(expires ? expires.value : "never");
    fetch(url, { method: "PUT", body: text.value })
      .then(function (res) {
        if (!res.ok) {
          return res.text().then(function (msg) {
            throw new Error(msg.trim() || "Upload failed (" + res.status + ").");
          });
        }
        return res.json();
      })
      .then(function (data) {
        link.href = data.url;
        link.textContent = data.url;
        del.href = "/delete/" + data.id + "#token=" + encodeURIComponent(data.deleteToken);
        result.hidden = false;
        copy.textContent = "Copy";
      })
      .catch(function (err) {
        showError(err.message || "Upload failed: the server could not be reached.");
      })
      .finally(function () {
        button.disabled = false;
      });
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
