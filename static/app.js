// Enhancements only: every page works without this file. Texts come from the page (data-*
// attributes), so this file needs no translation.
(function () {
  "use strict";

  // A page that brought a one-off notice or a message for the embedding page gets the address
  // without them, so that reloading it says neither again.
  if (document.body.dataset.address && window.history.replaceState) {
    window.history.replaceState(window.history.state, "", document.body.dataset.address);
  }

  // After a failed submit, take focus to the list of problems so it is read out first; its links
  // move focus to the field itself, with its label in view.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var input = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!input) return;
      event.preventDefault();
      var label = document.querySelector("label[for='" + input.id + "']");
      (label || input).scrollIntoView();
      input.focus({ preventScroll: true });
    });
  }

  // The tokens of an immediate sign-in go to the site's callback at once, outside a frame.
  var signedIn = document.querySelector("form[data-send-at-once]");
  if (signedIn) signedIn.submit();

  // No double submit: the first click disables the buttons until the next page loads. A page that
  // Back brings back from the browser's memory (the back/forward cache) is ready to send again.
  var onceForms = document.querySelectorAll("form[data-once]");
  onceForms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]:not([disabled])").forEach(function (b) {
          b.disabled = true;
          b.dataset.held = "1";
        });
      }, 0);
    });
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    onceForms.forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button[data-held]").forEach(function (b) {
        b.disabled = false;
        delete b.dataset.held;
      });
    });
  });

  // The page holds the controls below, with their room, from the server, visible only once this
  // script makes them work ("ready"): adding them here would move the page (docs/performance.md).

  // Show or hide a password: one button a field, whose name stays ("Show password") and which is
  // pressed or not (aria-pressed), as screen readers expect of a toggle.
  document.querySelectorAll("button[data-show-password]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("aria-controls"));
    if (!input) return;
    button.addEventListener("click", function () {
      var shown = input.type === "text";
      input.type = shown ? "password" : "text";
      button.setAttribute("aria-pressed", shown ? "false" : "true");
    });
    button.classList.add("ready");
  });

  // A password typed on a page whose form comes back for another reason (a field left empty, the
  // language changed) is kept by this browser alone, for this tab, and put back: it never goes into
  // a page or an address. It is forgotten as soon as a page without that form is shown.
  var passwords = document.querySelectorAll("form input[type=password]");
  var kept = "signup-passwords:" + location.pathname;
  var storage = null;
  try { storage = window.sessionStorage; } catch (error) { storage = null; }
  if (storage) {
    try {
      if (!passwords.length) {
        Object.keys(storage).forEach(function (key) {
          if (key.indexOf("signup-passwords:") === 0) storage.removeItem(key);
        });
      } else {
        var saved = JSON.parse(storage.getItem(kept) || "{}");
        passwords.forEach(function (input) {
          if (!input.value && saved[input.name] && input.getAttribute("aria-invalid") !== "true") {
            input.value = saved[input.name];
            input.dispatchEvent(new Event("input"));
          }
        });
        storage.removeItem(kept);
        passwords[0].form.addEventListener("submit", function () {
          var values = {};
          passwords.forEach(function (input) { values[input.name] = input.value; });
          try { storage.setItem(kept, JSON.stringify(values)); } catch (error) { /* storage full or refused */ }
        });
      }
    } catch (error) { /* storage refused by the browser's settings: nothing is kept */ }
  }

  // How many characters are left, where the form declares at most so many (GOV.UK's character
  // count): said as the person types, and never cut short (the input has no maxlength).
  document.querySelectorAll("input[data-maxlength]").forEach(function (input) {
    var count = document.getElementById(input.id + "-count");
    if (!count) return;
    var maximum = Number(input.dataset.maxlength);
    var timer = null;
    var update = function (now) {
      var left = maximum - input.value.trim().length;
      var n = Math.abs(left);
      var template = left >= 0 ? (n === 1 ? count.dataset.oneLeft : count.dataset.otherLeft)
        : (n === 1 ? count.dataset.oneOver : count.dataset.otherOver);
      var say = function () { count.textContent = template.replace("{count}", n); };
      clearTimeout(timer);  // said once the typing pauses, not at every key; at once for a value the page brought
      if (now === true) say(); else timer = setTimeout(say, 300);
      count.classList.toggle("over", left < 0);
    };
    input.addEventListener("input", update);
    if (input.value) update(true);
  });

  // A live checklist of the password policy's rules, ticked off while the person types. It says
  // what the hint says (both come from the same list on the server), so the style sheet shows the
  // hint only where scripts do not run, and the checklist only where they do.
  var checklist = document.getElementById("password-checklist");
  var password = document.getElementById("password");
  if (checklist && password) {
    var symbols = checklist.dataset.symbols;
    var tests = {
      length: function (v) { return v.length >= Number(checklist.dataset.minimum); },
      upper: function (v) { return /[A-Z]/.test(v); },
      lower: function (v) { return /[a-z]/.test(v); },
      number: function (v) { return /[0-9]/.test(v); },
      symbol: function (v) {
        return v.trim().split("").some(function (c) { return symbols.indexOf(c) >= 0; });
      }
    };
    var items = checklist.querySelectorAll("li[data-rule]");
    items.forEach(function (item) {
      var state = document.createElement("span");
      state.className = "visually-hidden";
      item.appendChild(state);
    });
    var update = function () {
      items.forEach(function (item) {
        var met = tests[item.dataset.rule](password.value);
        item.classList.toggle("met", met);
        item.lastChild.textContent = ": " + (met ? checklist.dataset.met : checklist.dataset.unmet);
      });
    };
    var described = (password.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== "password-hint";
    });
    described.push("password-checklist");
    password.setAttribute("aria-describedby", described.join(" "));
    password.addEventListener("input", update);
    update();
  }

  // Phone numbers: a country list beside the input, so a local number ("07400 123456") is read
  // in the right country; the server turns it into E.164. The list comes from the page.
  document.querySelectorAll("input[data-countries]").forEach(function (input) {
    var select = document.getElementById(input.id + "_region");
    if (!select) return;
    var guess = input.dataset.region || (navigator.language.split("-")[1] || "").toUpperCase();
    JSON.parse(input.dataset.countries).forEach(function (country) {
      select.add(new Option(country[1] + " (+" + country[2] + ")", country[0], false, country[0] === guess));
    });
    select.parentElement.classList.add("ready");
  });

  // The "send a new code" cooldown, counted down; the button waits with it. Counted from a time,
  // not in ticks, so a page Back brings back from the browser's memory shows the real wait.
  var wait = document.getElementById("resend-wait");
  if (wait) {
    var until = Date.now() + Number(wait.dataset.countdown) * 1000;
    var resend = document.querySelector("button[aria-describedby='resend-wait']");
    if (resend) resend.disabled = true;
    var timer = setInterval(function () {
      var seconds = Math.ceil((until - Date.now()) / 1000);
      if (seconds > 0) {
        var template = seconds === 1 ? wait.dataset.one : wait.dataset.other;
        wait.textContent = template.replace("{seconds}", seconds);
        return;
      }
      clearInterval(timer);
      wait.setAttribute("role", "status");
      wait.textContent = wait.dataset.ready;
      if (resend) resend.disabled = false;
    }, 1000);
  }
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
