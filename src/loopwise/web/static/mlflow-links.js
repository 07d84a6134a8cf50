/* The MLflow client prints links into MLflow's own UI, such as
 * http://host/#/experiments/9/runs/<32 hex> and http://host/#/models/churn/versions/3.
 * The part after "#" never reaches the server, so this file, loaded on the home page and
 * the sign-in page, reads it and opens the matching Loopwise page:
 *
 *   #/experiments/N/runs/ID[/...]   -> /runs/run_ID
 *   #/experiments/N[/...]           -> /mlflow/experiments/N (the server finds the project)
 *   #/models/NAME/versions/V[/...]  -> /models/NAME#vV
 *   #/models/NAME                   -> /models/NAME
 *
 * On the sign-in page it only carries the link through: "next" becomes /#/..., so the
 * home page gets it after signing in. Anything else is left alone.
 */
(function () {
  "use strict";

  var hash = window.location.hash;
  if (hash.indexOf("#/") !== 0) return;

  var next = document.querySelector("input[type=hidden][name=next]");
  if (next) {
    if (next.value === "" || next.value === "/") next.value = "/" + hash;
    return;
  }

  var name = function (text) {
    try {
      return encodeURIComponent(decodeURIComponent(text));
    } catch (e) {
      return encodeURIComponent(text); // a stray "%": taken as written
    }
  };
  var path = hash.slice(1).split("?")[0];
  var m;
  var target = null;
  if ((m = /^\/experiments\/\d+\/runs\/([0-9a-fA-F]{32})(\/.*)?$/.exec(path))) {
    target = "/runs/run_" + m[1].toLowerCase();
  } else if ((m = /^\/experiments\/(\d+)(\/.*)?$/.exec(path))) {
    target = "/mlflow/experiments/" + m[1];
  } else if ((m = /^\/models\/([^\/]+)\/versions\/(\d+)(\/.*)?$/.exec(path))) {
    target = "/models/" + name(m[1]) + "#v" + m[2];
  } else if ((m = /^\/models\/([^\/]+)\/?$/.exec(path))) {
    target = "/models/" + name(m[1]);
  }
  if (target) window.location.replace(target);
})();
