// Enhancements only: every page works without this file.
(function () {
  "use strict";

  // After a failed submit, take focus to the list of problems so it is read out first.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // No double submit: the first click disables the buttons until the next page loads.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
})();

// Advanced security (when the operator turns it on): Cognito's script describes the device, and
// the server sends that to Cognito with the request. Without JavaScript, only the IP address is sent.
(function () {
  "use strict";
  document.querySelectorAll("form[data-asf-pool]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var field = form.querySelector("input[name=encoded_data]");
      var asf = window.AmazonCognitoAdvancedSecurityData;
      if (!field || !asf) return;
      var typed = form.querySelector("input[name=username]");
      var username = typed ? typed.value : form.dataset.asfUsername || "";
      try {
        field.value = asf.getData(username, form.dataset.asfPool, form.dataset.asfClient) || "";
      } catch (error) {
        field.value = "";
      }
    });
  });
})();

// Embedded in another site's page: tell the parent our height and what happened, posting only to
// the origins the operator allowed (the browser drops a message whose origin does not match).
(function () {
  "use strict";
  var body = document.body;
  if (window.parent === window || !body.dataset.embedOrigins) return;
  var origins = body.dataset.embedOrigins.split(" ");

  function tell(message) {
    message.source = "cognito-signup";
    origins.forEach(function (origin) { window.parent.postMessage(message, origin); });
  }

  var lastHeight = 0;
  function reportHeight() {
    var height = Math.ceil(body.getBoundingClientRect().height);
    if (height !== lastHeight) {
      lastHeight = height;
      tell({ type: "height", height: height });
    }
  }
  if (window.ResizeObserver) new ResizeObserver(reportHeight).observe(body);
  reportHeight();

  JSON.parse(body.dataset.parentMessages || "[]").forEach(tell);
})();
