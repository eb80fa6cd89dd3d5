// The delete page: the token sits in the URL fragment (#token=...), which browsers never send to the server.
(function () {
  "use strict";

  var button = document.getElementById("confirm-delete");
  var status = document.getElementById("delete-status");
  var error = document.getElementById("error");
  var id = button.getAttribute("data-id");
  var token = new URLSearchParams(location.hash.slice(1)).get("token") || "";

  if (!token) {
    button.disabled = true;
    error.textContent = "This link has no delete token.";
    error.hidden = false;
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    error.hidden = true;
    fetch("/" + id, { method: "DELETE", headers: { "X-Delete-Token": token } })
      .then(function (res) {
        if (res.status === 204) {
          status.textContent = "Paste " + id + " is deleted.";
          status.hidden = false;
          return;
        }
        return res.text().then(function (msg) {
          throw new Error(msg.trim() || "Delete failed (" + res.status + ").");
        });
      })
      .catch(function (err) {
        error.textContent = err.message;
        error.hidden = false;
        button.disabled = false;
      });
  });
})();
