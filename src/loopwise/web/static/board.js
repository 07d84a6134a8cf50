/* Loopwise board: drag-and-drop and keyboard moves on top of the server-rendered board.
 *
 * Without this file every card still moves through its own "Move…" form. With it, a move
 * posts to the same page route (/items/<key>/move, JSON answer), then the board is read
 * again from the server, so counts, WIP flags and ages stay the server's. A refused move
 * (WIP limit, unmet Definition of Done) opens a dialog asking for the reason that
 * overrides it. Results are announced in an aria-live region.
 *
 * Also: Definition-of-Done checklists save as soon as a box is ticked.
 * No framework, no external assets.
 */
(function () {
  "use strict";

  // --- checklists: tick to save ---------------------------------------------------------
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    var save = form.querySelector(".save");
    if (save) save.hidden = true;
    form.addEventListener("change", function () {
      if (form.requestSubmit) form.requestSubmit();
      else form.submit();
    });
  });

  var board = document.getElementById("board");
  if (!board || board.dataset.canMove !== "true") return;

  var live = document.getElementById("board-live");
  var message = document.getElementById("board-message");
  var dialog = document.getElementById("move-dialog");
  var dialogForm = document.getElementById("move-dialog-form");
  var dialogText = document.getElementById("move-dialog-message");
  var dialogReason = document.getElementById("move-dialog-reason");
  var dialogProblem = document.getElementById("move-dialog-problem");
  var pending = null; // {key, to} while the dialog asks for a reason
  var busy = false;

  function announce(text) {
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function showError(text) {
    message.textContent = text;
    message.hidden = false;
  }

  function clearError() {
    message.textContent = "";
    message.hidden = true;
  }

  function columns() {
    return Array.prototype.map.call(board.querySelectorAll(".column"), function (c) {
      return { key: c.dataset.column, name: c.querySelector("h2").textContent.trim() };
    });
  }

  function cardFor(key) {
    return board.querySelector('.card[data-key="' + CSS.escape(key) + '"]');
  }

  function enhance() {
    board.querySelectorAll(".card").forEach(function (card) {
      card.draggable = true;
    });
  }

  function refresh(focusKey) {
    return fetch(board.dataset.url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("board");
        if (fresh) board.replaceChildren.apply(board, Array.prototype.slice.call(fresh.childNodes));
        enhance();
        var card = focusKey && cardFor(focusKey);
        if (card) card.focus();
      });
  }

  function move(key, to, reason) {
    if (busy) return Promise.resolve();
    busy = true;
    board.setAttribute("aria-busy", "true");
    var body = new URLSearchParams({ to: to, reason: reason || "", next: board.dataset.url });
    return fetch("/items/" + encodeURIComponent(key) + "/move", {
      method: "POST",
      headers: { Accept: "application/json" },
      body: body,
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().catch(function () {
          return { ok: false, message: "The server answered " + response.status + "." };
        });
      })
      .then(function (data) {
        if (data.ok) {
          clearError();
          return refresh(key).then(function () { announce(data.message); });
        }
        if (data.needs_reason) {
          askReason(key, to, data.message);
          return null;
        }
        showError(sentence(data.message));
        announce(sentence(data.message));
        return null;
      })
      .catch(function (error) {
        showError("Could not move " + key + ": " + error.message);
      })
      .finally(function () {
        busy = false;
        board.removeAttribute("aria-busy");
      });
  }

  function sentence(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function askReason(key, to, text) {
    text = sentence(text);
    pending = { key: key, to: to };
    dialogText.textContent = text;
    dialogReason.value = "";
    dialogProblem.hidden = true;
    announce("Move refused. " + text);
    dialog.showModal();
    dialogReason.focus();
  }

  function closeDialog(cancelled) {
    var was = pending;
    pending = null;
    dialog.close();
    if (cancelled && was) {
      announce("Move of " + was.key + " cancelled.");
      var card = cardFor(was.key);
      if (card) card.focus();
    }
  }

  dialogForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var reason = dialogReason.value.trim();
    if (!reason) {
      dialogProblem.hidden = false;
      dialogReason.focus();
      return;
    }
    var was = pending;
    closeDialog(false);
    if (was) move(was.key, was.to, reason);
  });
  document.getElementById("move-dialog-cancel").addEventListener("click", function () {
    closeDialog(true);
  });
  dialog.addEventListener("cancel", function (event) { // Escape
    event.preventDefault();
    closeDialog(true);
  });

  // --- drag and drop --------------------------------------------------------------------
  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".card");
    if (!card) return;
    event.dataTransfer.setData("text/plain", card.dataset.key);
    event.dataTransfer.effectAllowed = "move";
    card.classList.add("dragging");
  });
  board.addEventListener("dragend", function (event) {
    var card = event.target.closest && event.target.closest(".card");
    if (card) card.classList.remove("dragging");
    board.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  });
  board.addEventListener("dragover", function (event) {
    var column = event.target.closest && event.target.closest(".column");
    if (!column) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    board.querySelectorAll(".drop-target").forEach(function (c) {
      if (c !== column) c.classList.remove("drop-target");
    });
    column.classList.add("drop-target");
  });
  board.addEventListener("drop", function (event) {
    var column = event.target.closest && event.target.closest(".column");
    if (!column) return;
    event.preventDefault();
    column.classList.remove("drop-target");
    var key = event.dataTransfer.getData("text/plain");
    var card = key && cardFor(key);
    if (!card || card.dataset.status === column.dataset.column) return;
    move(key, column.dataset.column);
  });

  // --- keyboard -------------------------------------------------------------------------
  board.addEventListener("keydown", function (event) {
    var card = event.target;
    if (!card.classList || !card.classList.contains("card")) return; // not inside its form
    var step = 0;
    if ((event.shiftKey && event.key === "ArrowRight") || event.key === "]") step = 1;
    else if ((event.shiftKey && event.key === "ArrowLeft") || event.key === "[") step = -1;
    else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      var siblings = Array.prototype.slice.call(card.parentNode.querySelectorAll(".card"));
      var next = siblings[siblings.indexOf(card) + (event.key === "ArrowDown" ? 1 : -1)];
      if (next) next.focus();
      event.preventDefault();
      return;
    } else return;
    event.preventDefault();
    var cols = columns();
    var here = cols.findIndex(function (c) { return c.key === card.dataset.status; });
    var target = cols[here + step];
    if (!target) {
      announce(card.dataset.key + " is already in the " + (step > 0 ? "last" : "first") + " column.");
      return;
    }
    announce("Moving " + card.dataset.key + " to " + target.name + "…");
    move(card.dataset.key, target.key);
  });

  enhance();
})();
