/* Loopwise review queue: keyboard shortcuts on top of plain forms.
 *
 * Without this file every answer is a button in its own form. With it, pressing a key
 * shown on a button (a class label 0..9, "s" to skip, "u" to undo) submits that button's
 * form, unless the focus is in a text field or a modifier key is held. A form is sent
 * once: keys pressed while it is on its way are ignored. No framework, no external assets.
 */
(function () {
  "use strict";

  var sending = false;
  var live = document.getElementById("review-live");

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (sending || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (typing(event.target)) return;
    var key = event.key.length === 1 ? event.key.toLowerCase() : "";
    if (!key) return;
    var button = document.querySelector('button[data-key="' + CSS.escape(key) + '"]');
    if (!button || button.disabled) return;
    event.preventDefault();
    sending = true;
    button.classList.add("pressed");
    if (live) live.textContent = button.textContent.trim();
    var form = button.form;
    if (form.requestSubmit) form.requestSubmit(button);
    else form.submit();
  });
})();
