// The deal board's drag and drop: dropping a card on a column submits the card's own
// "Move to" form with that column's stage, so the drag and the keyboard take one path
// (htmx posts it with the CSRF header and swaps the re-rendered board in).
(function () {
  "use strict";
  var dragged = null;

  function column(target) {
    return target && target.closest ? target.closest(".board-col") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest(".deal-card[draggable=true]") : null;
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
    card.classList.add("dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".board-col.drop-target").forEach(function (col) {
      col.classList.remove("drop-target");
    });
  });

  document.addEventListener("dragover", function (event) {
    var col = column(event.target);
    if (!col || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    col.classList.add("drop-target");
  });

  document.addEventListener("dragleave", function (event) {
    var col = column(event.target);
    if (col && !col.contains(event.relatedTarget)) col.classList.remove("drop-target");
  });

  document.addEventListener("drop", function (event) {
    var col = column(event.target);
    if (!col) return;
    event.preventDefault();
    col.classList.remove("drop-target");
    var id = event.dataTransfer.getData("text/plain") || (dragged && dragged.dataset.deal);
    var card = id ? document.getElementById("deal-" + id) : null;
    var form = card ? card.querySelector("form.move-form") : null;
    if (!form || column(card) === col) return;
    form.elements.stage.value = col.dataset.stage;
    card.classList.add("moving");
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  });
})();
