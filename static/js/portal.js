/* Small behaviours of the portal's pages, loaded from a file so the Content Security Policy
   allows no inline script at all.
   - data-confirm="…" on a button or form: ask before anything that revokes, suspends, merges
     or deletes.
   - data-copy-from="#id" on a button: copy that field's value to the clipboard.
   - data-insert-into="#id" on a <select>: append the chosen option's value to that text area
     (canned responses), then reset the select.
   - data-suggest-url="…" on an <input list="…">: as the user types (two characters or more),
     fill that datalist with the names the URL answers for ?q= (the customer type-ahead). */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var source = event.submitter && event.submitter.dataset.confirm ? event.submitter : event.target;
    var question = source.dataset ? source.dataset.confirm : null;
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy-from]") : null;
    if (!button) {
      return;
    }
    var field = document.querySelector(button.dataset.copyFrom);
    if (field && navigator.clipboard) {
      navigator.clipboard.writeText(field.value !== undefined ? field.value : field.textContent);
    }
  });

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.dataset || !select.dataset.insertInto || !select.value) {
      return;
    }
    var target = document.querySelector(select.dataset.insertInto);
    if (target) {
      target.value = (target.value ? target.value + "\n\n" : "") + select.value;
      target.focus();
    }
    select.value = "";
  });

  var suggestTimer = null;
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.dataset || !input.dataset.suggestUrl || !input.list) {
      return;
    }
    window.clearTimeout(suggestTimer);
    var typed = input.value.trim();
    if (typed.length < 2) {
      return;
    }
    suggestTimer = window.setTimeout(function () {
      var url = input.dataset.suggestUrl + "?q=" + encodeURIComponent(typed);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) {
          var list = input.list;
          list.replaceChildren();
          (data.results || []).forEach(function (name) {
            var option = document.createElement("option");
            option.value = name;
            list.appendChild(option);
          });
        })
        .catch(function () {});
    }, 150);
  });
})();
