// logpaste.js: upload text to a litepaste (or LogPaste) server from any web page.
//   window.logpaste.uploadText(text, baseUrl) -> Promise resolving to the paste id,
//   rejecting with an Error carrying the server's one-line message.
// baseUrl defaults to the server this script was loaded from.
(function () {
  "use strict";

  var scriptOrigin = (function () {
    try {
      return new URL(document.currentScript.src).origin;
    } catch (e) {
      return "";
    }
  })();

  function uploadText(text, baseUrl) {
    var base = String(baseUrl || scriptOrigin).replace(/\/+$/, "");
    return fetch(base + "/", { method: "PUT", body: text }).then(function (res) {
      if (!res.ok) {
        return res.text().then(function (msg) {
          throw new Error(msg.trim() || "upload failed with status " + res.status);
        });
      }
      return res.json().then(function (data) {
        return data.id;
      });
    });
  }

  window.logpaste = window.logpaste || {};
  window.logpaste.uploadText = uploadText;
})();
