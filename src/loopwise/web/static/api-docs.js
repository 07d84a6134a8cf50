/* Loopwise API browser (/docs): starts Swagger UI on the OpenAPI document.
 *
 * Kept out of the page so that the page runs no inline script (its Content-Security-Policy
 * allows scripts from this server and the pinned Swagger UI bundle only).
 */
(function () {
  "use strict";

  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") return;
  var bundle = window.SwaggerUIBundle;
  window.ui = bundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [bundle.presets.apis, bundle.SwaggerUIStandalonePreset],
  });
})();
