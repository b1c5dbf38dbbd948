/* Small behaviours of the portal's pages, loaded from a file so the Content Security Policy
   allows no inline script at all.
   - data-confirm="…" on a button or form: ask before anything that revokes, suspends, merges
     or deletes.
   - data-copy-from="#id" on a button: copy that field's value to the clipboard.
   - data-insert-into="#id" on a <select>: append the chosen option's value to that text area
     (canned responses), then reset the select. */
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
})();
